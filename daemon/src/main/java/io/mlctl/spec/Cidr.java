package io.mlctl.spec;

/** An IPv4 CIDR block. */
public record Cidr(long base, int prefix) {
    public static Cidr parse(String text) {
        int slash = text.indexOf('/');
        if (slash < 0) throw new IllegalArgumentException("'" + text + "' is not a CIDR block (expected a.b.c.d/n)");
        String[] octets = text.substring(0, slash).split("\\.", -1);
        if (octets.length != 4) throw new IllegalArgumentException("'" + text + "' is not a CIDR block (expected a.b.c.d/n)");
        long ip = 0;
        for (String o : octets) {
            int v;
            try {
                v = Integer.parseInt(o);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + text + "' is not a CIDR block (bad octet '" + o + "')");
            }
            if (v < 0 || v > 255 || o.isEmpty()) throw new IllegalArgumentException("'" + text + "' is not a CIDR block (octet " + o + " is out of range 0-255)");
            ip = (ip << 8) | v;
        }
        int prefix;
        try {
            prefix = Integer.parseInt(text.substring(slash + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not a CIDR block (bad prefix length)");
        }
        if (prefix < 0 || prefix > 32) throw new IllegalArgumentException("'" + text + "' has prefix length " + prefix + " (must be 0-32)");
        long mask = prefix == 0 ? 0 : (0xFFFFFFFFL << (32 - prefix)) & 0xFFFFFFFFL;
        if ((ip & ~mask & 0xFFFFFFFFL) != 0) {
            throw new IllegalArgumentException("'" + text + "' has host bits set (did you mean " + format(ip & mask) + "/" + prefix + "?)");
        }
        return new Cidr(ip, prefix);
    }

    public long size() {
        return 1L << (32 - prefix);
    }

    public long last() {
        return base + size() - 1;
    }

    public boolean contains(Cidr other) {
        return other.base >= base && other.last() <= last();
    }

    public boolean overlaps(Cidr other) {
        return base <= other.last() && other.base <= last();
    }

    static String format(long ip) {
        return ((ip >> 24) & 255) + "." + ((ip >> 16) & 255) + "." + ((ip >> 8) & 255) + "." + (ip & 255);
    }

    @Override
    public String toString() {
        return format(base) + "/" + prefix;
    }
}
