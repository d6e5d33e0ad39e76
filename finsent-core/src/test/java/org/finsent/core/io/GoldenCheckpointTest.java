package org.finsent.core.io;

import org.finsent.core.oracle.Golden;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Files written by real PyTorch, Hugging Face and safetensors (shared/tools/hf_golden.py, committed under
 * {@code <repo>/golden}): the torch.save pickles must hold exactly the tensors of the safetensors files. The folder
 * is part of the repository, so a missing one fails ({@link Golden#root()}), never skips.
 */
class GoldenCheckpointTest {

    @Test
    void torchSavePicklesHoldTheSafetensorsTensors() throws IOException {
        Path dir = Golden.root();
        List<Path> cases = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.filter(p -> Files.isRegularFile(p.resolve("pytorch_model.bin")) && Files.isRegularFile(p.resolve("model.safetensors")))
                    .sorted().forEach(cases::add);
        }
        assertEquals(3, cases.size(), "cases of " + dir + " with both pytorch_model.bin and model.safetensors: " + cases);
        for (Path c : cases) {
            StateDict st = SafeTensors.read(c.resolve("model.safetensors"));
            StateDict pt = TorchCheckpoint.read(c.resolve("pytorch_model.bin"));
            assertFalse(st.isEmpty(), c.toString());
            for (TensorData t : st) {
                TensorData u = pt.get(t.name());
                assertNotNull(u, c + ": " + t.name() + " missing from pytorch_model.bin");
                assertTrue(t.contentEquals(u), c + ": " + t.name());
            }
            Path f32 = c.resolve("pytorch_model_f32.bin");
            if (Files.isRegularFile(f32)) {
                StateDict p32 = TorchCheckpoint.read(f32);
                for (TensorData t : st) {
                    if (!t.dtype().isFloatingPoint()) continue;
                    TensorData u = p32.require(t.name());
                    assertEquals(DType.F32, u.dtype());
                    double[] d = t.toDoubles();
                    float[] want = new float[d.length];
                    for (int i = 0; i < d.length; i++) want[i] = (float) d[i];
                    assertArrayEquals(want, u.toFloats(), c + ": " + t.name());
                }
            }
            for (String half : new String[]{"model_f16.safetensors", "model_bf16.safetensors"}) {
                Path h = c.resolve(half);
                if (!Files.isRegularFile(h)) continue;
                StateDict hs = SafeTensors.read(h);
                for (TensorData t : st) {
                    if (!t.dtype().isFloatingPoint()) continue;
                    double[] d = t.toDoubles();
                    double[] v = hs.require(t.name()).toDoubles();
                    double tol = half.contains("bf16") ? 0x1p-8 : 0x1p-10;
                    for (int i = 0; i < d.length; i++) {
                        assertEquals(d[i], v[i], Math.max(Math.abs(d[i]) * tol, 1e-7), c + ": " + half + " " + t.name());
                    }
                }
            }
        }
    }
}
