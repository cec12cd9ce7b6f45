package io.mlctl.cli;

import io.mlctl.MlctlException;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import picocli.CommandLine;

/** Entry point of the {@code mlctl} command. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(new java.io.OutputStreamWriter(System.out, StandardCharsets.UTF_8), true);
        PrintWriter err = new PrintWriter(new java.io.OutputStreamWriter(System.err, StandardCharsets.UTF_8), true);
        Services services = new Services(Path.of("").toAbsolutePath(), System.getenv(), Clock.systemUTC(),
            new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)), out, err, System.console() != null);
        int code = run(services, args);
        out.flush();
        err.flush();
        System.exit(code);
    }

    /** Runs one command line and returns its exit code: 0 ok (no changes), 1 error, 2 changes (with --detailed-exitcode). */
    public static int run(Services services, String... args) {
        CommandLine cmd = commandLine(services);
        return cmd.execute(args);
    }

    public static CommandLine commandLine(Services services) {
        CommandLine cmd = new CommandLine(new MlctlCommand(services));
        cmd.setOut(services.out());
        cmd.setErr(services.err());
        cmd.setCaseInsensitiveEnumValuesAllowed(true);
        // Wide enough that paths like .mlctl/sandbox are not broken; wider still on a wide terminal.
        cmd.setUsageHelpWidth(110);
        cmd.setUsageHelpAutoWidth(true);
        cmd.setExecutionExceptionHandler((ex, line, parse) -> {
            boolean trace = parse.originalArgs().contains("--stacktrace");
            PrintWriter err = line.getErr();
            if (ex instanceof io.mlctl.spec.SpecException se) {
                err.println(se.userMessage());
                err.println(se.errors().size() == 1 ? "1 error" : se.errors().size() + " errors");
            } else if (ex instanceof MlctlException me) {
                err.println("Error: " + me.userMessage());
            } else {
                err.println("Error: internal error: " + ex + (trace ? "" : " (run with --stacktrace for details)"));
            }
            if (trace) ex.printStackTrace(err);
            err.flush();
            return 1;
        });
        cmd.setParameterExceptionHandler((ex, args) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            err.println("Error: " + (ex instanceof CommandLine.UnmatchedArgumentException u ? unmatched(u) : ex.getMessage()));
            err.println("Run '" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help' for usage.");
            err.flush();
            return 1;
        });
        return cmd;
    }

    /**
     * picocli's "Unmatched arguments from index 0: 'plna', ..." as a person would say it, with the closest command or flag:
     * "unknown command 'plna' for mlctl (did you mean 'plan'?)", "unknown option '--tagret' for mlctl plan (did you mean '--target'?)".
     */
    static String unmatched(CommandLine.UnmatchedArgumentException ex) {
        CommandLine line = ex.getCommandLine();
        java.util.List<String> args = ex.getUnmatched();
        if (args.isEmpty()) return ex.getMessage();
        CommandLine.Model.CommandSpec spec = line.getCommandSpec();
        if (ex.isUnknownOption()) {
            String given = args.stream().filter(a -> a.startsWith("-")).findFirst().orElse(args.get(0));
            String flag = given.contains("=") ? given.substring(0, given.indexOf('=')) : given;
            java.util.Set<String> names = new java.util.TreeSet<>();
            spec.options().stream().filter(o -> !o.hidden()).forEach(o -> names.addAll(java.util.List.of(o.names())));
            return "unknown option '" + flag + "' for " + spec.qualifiedName() + io.mlctl.util.Typos.didYouMean(flag, names);
        }
        String given = args.get(0);
        if (!line.getSubcommands().isEmpty() && !given.startsWith("-")) {
            java.util.List<String> commands = line.getSubcommands().entrySet().stream()
                .filter(c -> !c.getValue().getCommandSpec().usageMessage().hidden()).map(java.util.Map.Entry::getKey).toList();
            return "unknown command '" + given + "' for " + spec.qualifiedName() + io.mlctl.util.Typos.didYouMean(given, commands);
        }
        return "unexpected argument" + (args.size() == 1 ? " '" + given + "'" : "s '" + String.join("', '", args) + "'") + " for " + spec.qualifiedName();
    }
}
