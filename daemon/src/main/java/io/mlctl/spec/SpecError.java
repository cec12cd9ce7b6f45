package io.mlctl.spec;

/** One problem found in a spec, pinned to the node that causes it. */
public record SpecError(SourcePosition position, String message) implements Comparable<SpecError> {
    @Override
    public String toString() {
        return position + ": " + message;
    }

    @Override
    public int compareTo(SpecError o) {
        int c = position.file().compareTo(o.position.file());
        if (c == 0) c = Integer.compare(position.line(), o.position.line());
        if (c == 0) c = Integer.compare(position.column(), o.position.column());
        if (c == 0) c = message.compareTo(o.message);
        return c;
    }
}
