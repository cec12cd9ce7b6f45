package io.mlctl.cost.update;

import io.mlctl.MlctlException;

/** A price source that could not be reached or answered something mlctl cannot read; the message is one line naming the source. */
public final class PriceSourceException extends MlctlException {
    private final String source;

    public PriceSourceException(String source, String message) {
        super(source + ": " + oneLine(message));
        this.source = source;
    }

    public PriceSourceException(String source, String message, Throwable cause) {
        super(source + ": " + oneLine(message), cause);
        this.source = source;
    }

    /** The price source, e.g. "Azure Retail Prices API". */
    public String source() {
        return source;
    }

    static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s*[\\r\\n]+\\s*", " ").strip();
    }
}
