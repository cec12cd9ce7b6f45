package io.mlctl.testing;

import io.mlctl.cli.Main;
import io.mlctl.cli.Services;
import java.io.BufferedReader;
import java.io.PrintWriter;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.Map;

/** Runs the real mlctl command line in-process with its own directory, clock, input and output. */
public final class Cli {
    public static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");

    private final Path cwd;
    private final Map<String, String> env = new HashMap<>();
    private Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);

    public Cli(Path cwd) {
        this.cwd = cwd;
        env.put("MLCTL_SANDBOX", cwd.resolve("sandbox").toString());
        env.put("MLCTL_STATE_DIR", cwd.resolve("state").toString());
    }

    public Cli env(String key, String value) {
        env.put(key, value);
        return this;
    }

    public Cli clock(Clock c) {
        this.clock = c;
        return this;
    }

    public Path cwd() {
        return cwd;
    }

    public Path sandboxDir() {
        return cwd.resolve("sandbox");
    }

    public Path stateDir() {
        return cwd.resolve("state");
    }

    public record Result(int exitCode, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    public Result run(String... args) {
        return runWithInput("", args);
    }

    public Result runWithInput(String input, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        Services s = new Services(cwd, env, clock, new BufferedReader(new StringReader(input)), new PrintWriter(out, true),
            new PrintWriter(err, true), false);
        int code = Main.run(s, args);
        return new Result(code, out.toString(), err.toString());
    }
}
