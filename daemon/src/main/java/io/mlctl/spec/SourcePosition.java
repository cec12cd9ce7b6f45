package io.mlctl.spec;

/** A place in a spec file, 1-based, printed the way compilers print it: {@code file:line:col}. */
public record SourcePosition(String file, int line, int column) {
    public static SourcePosition ofFile(String file) {
        return new SourcePosition(file, 1, 1);
    }

    @Override
    public String toString() {
        return file + ":" + line + ":" + column;
    }
}
