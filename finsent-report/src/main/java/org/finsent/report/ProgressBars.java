package org.finsent.report;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.finsent.train.EvalResult;
import org.finsent.train.TrainResult;
import org.finsent.train.TrainingArguments;
import org.finsent.train.TrainingListener;

import java.time.Duration;
import java.util.Locale;

/**
 * Progress bars on the terminal for training steps and evaluations. {@link #forConsole()} gives one only when the
 * process has a console and {@code CI} is not set; otherwise the trainer's log lines report progress.
 */
public final class ProgressBars implements TrainingListener, AutoCloseable {
    private ProgressBar train, eval;

    /** A listener that draws bars, or null when there is no terminal to draw on. */
    public static ProgressBars forConsole() {
        return System.console() == null || System.getenv("CI") != null ? null : new ProgressBars();
    }

    @Override
    public boolean showsProgress() {
        return true;
    }

    @Override
    public void onTrainBegin(TrainingArguments args, long totalSteps) {
        close();
        train = bar("train", totalSteps, " steps");
    }

    @Override
    public void onOptimizerStep(long step, long totalSteps, double loss) {
        if (train == null) train = bar("train", totalSteps, " steps");
        train.stepTo(step);
        train.setExtraMessage(String.format(Locale.ROOT, " loss %.4f", loss));
    }

    @Override
    public void onEvaluateProgress(long done, long total) {
        if (eval == null) eval = bar("eval", total, " examples");
        eval.stepTo(done);
        if (done >= total) {
            eval.close();
            eval = null;
        }
    }

    @Override
    public void onEvaluate(long step, double epoch, EvalResult result) {
        if (eval != null) {
            eval.close();
            eval = null;
        }
    }

    @Override
    public void onEnd(TrainResult result) {
        close();
    }

    @Override
    public void close() {
        if (train != null) train.close();
        if (eval != null) eval.close();
        train = eval = null;
    }

    private static ProgressBar bar(String task, long max, String unit) {
        return new ProgressBarBuilder().setTaskName(task).setInitialMax(max).setStyle(ProgressBarStyle.ASCII)
                .setUnit(unit, 1).showSpeed().startsFrom(0, Duration.ZERO).build();
    }
}
