/**
 * Weight files in, name-to-tensor maps out, with no ND4J types except {@link org.finsent.core.io.TensorData#toINDArray}.
 *
 * <ul>
 *   <li>{@link org.finsent.core.io.SafeTensors}: Hugging Face {@code model.safetensors} (memory-mapped, sharded
 *       via {@code model.safetensors.index.json}) and a byte-exact writer;</li>
 *   <li>{@link org.finsent.core.io.TorchCheckpoint}: {@code pytorch_model.bin} from {@code torch.save} (zip and
 *       legacy layouts) through a restricted unpickler that refuses every global but the tensor-rebuilding ones;</li>
 *   <li>{@link org.finsent.core.io.TfTensorBundle} + {@link org.finsent.core.io.BertTfNames}: TensorFlow
 *       SavedModel / checkpoint variables (SSTable index + raw data) and Google BERT's names;</li>
 *   <li>{@link org.finsent.core.io.OnnxInitializers}: ONNX graph initializers, with BERT name recovery from the
 *       graph's nodes.</li>
 * </ul>
 * Every malformed or unsafe input raises {@link org.finsent.core.io.WeightFormatException} naming the file and,
 * where there is one, the tensor; sizes are checked by arithmetic before anything is allocated.
 */
package org.finsent.core.io;
