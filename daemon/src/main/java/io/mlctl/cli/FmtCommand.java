package io.mlctl.cli;

import io.mlctl.spec.ConfigLoader;
import io.mlctl.spec.SourcePosition;
import io.mlctl.spec.SpecError;
import io.mlctl.spec.SpecFormatter;
import io.mlctl.spec.YamlLoader;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "fmt", mixinStandardHelpOptions = true,
    description = {"Rewrite spec files in the canonical layout, keeping their comments: two-space indentation, keys in the "
        + "schema's order, plain scalars unless a value needs quotes (then double quotes), one blank line at most.",
        "Prints the files it rewrote. A file it cannot rewrite without losing a comment or changing a value is left as it is, "
            + "with one line saying why. '-' formats standard input to standard output."},
    footerHeading = "%nExit codes:%n",
    footer = {"  0  every file is canonical (now)", "  1  a file is not valid YAML or could not be rewritten safely",
        "  3  --check: a file is not canonical (the files are listed)"})
final class FmtCommand implements Callable<Integer> {
    /** terraform fmt -check's exit code for "some files are not formatted". */
    static final int NOT_CANONICAL = 3;

    @ParentCommand MlctlCommand root;

    @Option(names = "--check", description = "Change nothing: list the files that are not canonical and exit 3 if there is any (for CI).")
    boolean check;

    @Parameters(paramLabel = "PATH", arity = "1..*", description = "Spec files or folders of them; '-' for standard input.")
    List<Path> paths;

    @Override
    public Integer call() {
        Services s = root.services;
        SpecFormatter formatter = new SpecFormatter(s.schema().schemaTree());
        int errors = 0;
        int changed = 0;
        for (Path file : files(s)) {
            boolean stdin = file.equals(ConfigLoader.STDIN);
            String name = stdin ? ConfigLoader.STDIN_NAME : display(s, file);
            String text;
            try {
                text = stdin ? read(s) : read(file, name);
            } catch (FileError e) {
                s.err().println(e.error);
                errors++;
                continue;
            }
            SpecFormatter.Result r = formatter.format(text, name);
            if (r instanceof SpecFormatter.Result.Refused refused) {
                s.err().println(refused.error());
                errors++;
                continue;
            }
            String canonical = ((SpecFormatter.Result.Formatted) r).text();
            if (stdin && !check) {
                s.out().print(canonical);
                continue;
            }
            if (canonical.equals(text)) continue;
            changed++;
            if (!check) {
                try {
                    write(file, canonical);
                } catch (IOException e) {
                    s.err().println(new SpecError(SourcePosition.ofFile(name), "cannot write: " + e.getMessage()));
                    errors++;
                    continue;
                }
            }
            s.out().println(name);
        }
        s.out().flush();
        s.err().flush();
        if (errors > 0) return 1;
        return check && changed > 0 ? NOT_CANONICAL : 0;
    }

    /** The files named, and the spec files in the folders named (as validate reads them: .yaml and .yml, no hidden ones). */
    private List<Path> files(Services s) {
        List<Path> out = new ArrayList<>();
        for (Path p : paths) {
            if (p.equals(ConfigLoader.STDIN)) {
                out.add(p);
                continue;
            }
            Path abs = s.cwd().resolve(p).normalize();
            if (!Files.isDirectory(abs)) {
                out.add(abs);
                continue;
            }
            try {
                out.addAll(ConfigLoader.specFiles(abs));
            } catch (IOException e) {
                throw new io.mlctl.MlctlException("cannot list " + p + ": " + e.getMessage());
            }
        }
        return out;
    }

    private static String display(Services s, Path abs) {
        return abs.startsWith(s.cwd()) ? s.cwd().relativize(abs).toString() : abs.toString();
    }

    private static final class FileError extends Exception {
        final SpecError error;

        FileError(String file, String message) {
            super(message, null, false, false);
            this.error = new SpecError(SourcePosition.ofFile(file), message);
        }
    }

    private static String read(Path file, String name) throws FileError {
        try {
            if (!Files.exists(file)) throw new FileError(name, "no such file or directory");
            long max = YamlLoader.Limits.DEFAULT.maxFileBytes();
            if (Files.size(file) > max) throw new FileError(name, "file is too large (the limit for a spec file is " + max + " bytes)");
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(file))).toString();
        } catch (CharacterCodingException e) {
            throw new FileError(name, "file is not valid UTF-8");
        } catch (IOException e) {
            throw new FileError(name, "cannot read file: " + e.getMessage());
        }
    }

    private static String read(Services s) throws FileError {
        StringBuilder b = new StringBuilder();
        char[] buf = new char[8192];
        long max = YamlLoader.Limits.DEFAULT.maxFileBytes();
        try {
            for (int n; (n = s.in().read(buf)) >= 0; ) {
                b.append(buf, 0, n);
                if (b.length() > max) throw new FileError(ConfigLoader.STDIN_NAME, "input is too large (the limit for a spec is " + max + " bytes)");
            }
        } catch (IOException e) {
            throw new FileError(ConfigLoader.STDIN_NAME, "cannot read: " + e.getMessage());
        }
        return b.toString();
    }

    /**
     * Written beside the file and moved over it, so an interrupted fmt never leaves half a spec; a
     * symbolic link stays a link (its target is rewritten) and the file keeps its permissions.
     */
    private static void write(Path link, String text) throws IOException {
        Path file = link.toRealPath();
        // A fresh name (two fmt runs never share one, and nothing at it can be a link) and on disk before the move.
        Path tmp = Files.createTempFile(file.getParent(), "." + file.getFileName() + ".", ".mlctl-fmt");
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE,
            java.nio.file.StandardOpenOption.TRUNCATE_EXISTING)) {
            java.nio.ByteBuffer bytes = java.nio.ByteBuffer.wrap(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            while (bytes.hasRemaining()) ch.write(bytes);
            ch.force(true);
        }
        try {
            Files.setPosixFilePermissions(tmp, Files.getPosixFilePermissions(file));
        } catch (UnsupportedOperationException e) {
            // Not a POSIX file system: the file gets the default permissions, as any editor's save would.
        }
        try {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
