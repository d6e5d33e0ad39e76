package org.finsent.cli;

import org.finsent.train.TrainingDivergedException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The {@code finsent} command line: {@code train}, {@code evaluate}, {@code predict}, {@code tokenize},
 * {@code hidden-states}, {@code download}, {@code compare}.
 *
 * <p>Exit codes: {@value #OK} success; {@value #USER_ERROR} a problem with the inputs (a missing or malformed file,
 * a bad value, data that do not fit the model, a checkpoint that does not fit the run) — one line on stderr says
 * what to fix; {@value #USAGE} a command-line syntax error (unknown option, missing argument); {@value #DIVERGED}
 * training diverged (NaN/Inf); {@value #INTERNAL} an internal error only (a bug: the stack trace is printed).
 * {@code --verbose} prints the stack trace for every error and debug-level logs.
 */
@Command(name = "finsent", mixinStandardHelpOptions = true, version = "FinSent 0.1.0-SNAPSHOT",
        description = "Fine-tune BERT/MiniLM and GPT-2 for financial sentiment, in Java.",
        subcommands = {TrainCommand.class, EvaluateCommand.class, PredictCommand.class, TokenizeCommand.class,
                HiddenStatesCommand.class, DownloadCommand.class, ServeCommand.class, CompareCommand.class, PretrainCommand.class,
                ExportCommand.class, ScoreCommand.class,
                CommandLine.HelpCommand.class},
        footer = {"", "Exit codes: 0 ok, 1 bad input (message says what to fix), 2 bad command line, 3 training diverged, "
                + "70 internal error."})
public final class FinSentCli implements Runnable {
    public static final int OK = 0, USER_ERROR = 1, USAGE = 2, DIVERGED = 3, INTERNAL = 70;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Shared by every subcommand (picocli inherits it). */
    @Option(names = "--verbose", scope = CommandLine.ScopeType.INHERIT,
            description = "Debug logs, and the stack trace of any error.")
    void verbose(boolean on) {
        verbose = on;
        if (on) System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "debug");
    }

    static boolean verbose;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        org.finsent.core.nn.OpenMp.preferPassiveWaits();   // before anything loads ND4J (the class says why)
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit code (for tests and for callers embedding the tool). */
    public static int run(String... args) {
        // before the first logger is created: timestamps off, short names; logs go to stderr (stdout is for results)
        System.setProperty("org.slf4j.simpleLogger.showDateTime", "false");
        System.setProperty("org.slf4j.simpleLogger.showThreadName", "false");
        System.setProperty("org.slf4j.simpleLogger.showShortLogName", "true");
        System.setProperty("org.slf4j.simpleLogger.log.org.nd4j", "warn");
        System.setProperty("org.slf4j.simpleLogger.log.oshi", "warn");
        verbose = false;
        for (String a : args) if (a.equals("--verbose")) verbose = true;
        return new CommandLine(new FinSentCli())
                .setParameterExceptionHandler(FinSentCli::badCommandLine)
                .setExecutionExceptionHandler((e, cmd, parsed) -> {
                    int code = exitCode(e);
                    String line = "finsent " + cmd.getCommandName() + ": " + message(e);
                    if (verbose || code == INTERNAL) {
                        cmd.getErr().println(line);
                        e.printStackTrace(cmd.getErr());
                    } else {
                        cmd.getErr().println(line + " (--verbose for details)"); // an input error is one line
                    }
                    return code;
                })
                .execute(args);
    }

    /**
     * A command-line syntax error (unknown option, bad value, missing argument): the error, picocli's suggestions for
     * a mistyped option, and one line pointing at the command's help, not the whole usage.
     */
    static int badCommandLine(CommandLine.ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        java.io.PrintWriter err = cmd.getErr();
        err.println("finsent" + (cmd.getParent() == null ? "" : " " + cmd.getCommandName()) + ": " + e.getMessage());
        CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
        if (verbose) e.printStackTrace(err);
        err.println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for more information.");
        err.flush();
        return USAGE;
    }

    /** A user error is anything the user can fix by changing inputs; everything else is a bug. */
    static int exitCode(Throwable e) {
        if (e instanceof TrainingDivergedException) return DIVERGED;
        // DatasetException, WeightFormatException, TokenizerLoadException are IOExceptions; the hub client throws
        // UnsupportedOperationException until it is implemented
        if (e instanceof IOException || e instanceof UncheckedIOException || e instanceof IllegalArgumentException
                || e instanceof IllegalStateException || e instanceof UnsupportedOperationException) {
            return USER_ERROR;
        }
        return INTERNAL;
    }

    /** The exception's message on one line (a JSON parser's, for one, spans two). */
    static String message(Throwable e) {
        return rawMessage(e).strip().replaceAll("\\s*\\R\\s*", " ");
    }

    private static String rawMessage(Throwable e) {
        String m = e.getMessage();
        if (e instanceof java.nio.file.NoSuchFileException && (m == null || !m.contains(":"))) return "file not found: " + m;
        if (e instanceof java.nio.file.FileSystemException && m != null && !m.contains(" ")) return "cannot access " + m;
        return m == null ? e.getClass().getSimpleName() : m;
    }
}
