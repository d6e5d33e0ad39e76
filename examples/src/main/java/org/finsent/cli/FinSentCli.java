package org.finsent.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code finsent} command line. Subcommands arrive with their issues; today: {@code tokenize}.
 *
 * <pre>mvn -q -pl examples -am -DskipTests package exec:java -Dexec.args="tokenize 'Operating profit rose'"</pre>
 */
@Command(name = "finsent", mixinStandardHelpOptions = true, version = "FinSent 0.1.0-SNAPSHOT",
        description = "Fine-tune GPT-2 and BERT for financial sentiment, in Java.",
        subcommands = {TokenizeCommand.class, ServeCommand.class, CommandLine.HelpCommand.class})
public final class FinSentCli implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit code (for tests). */
    public static int run(String... args) {
        return new CommandLine(new FinSentCli())
                .setExecutionExceptionHandler((e, cmd, parsed) -> {
                    // A user error (bad file, bad option value) gets one clear line, not a stack trace.
                    boolean expected = e instanceof java.io.IOException || e instanceof IllegalArgumentException
                            || e instanceof IllegalStateException;
                    cmd.getErr().println("finsent " + cmd.getCommandName() + ": " + e.getMessage());
                    if (!expected) e.printStackTrace(cmd.getErr());
                    return 1;
                })
                .execute(args);
    }
}
