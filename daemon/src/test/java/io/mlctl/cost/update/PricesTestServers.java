package io.mlctl.cost.update;

import java.net.URI;

/** The Azure sample server for tests outside this package (the CLI's). */
public final class PricesTestServers {
    private PricesTestServers() {
    }

    /** Serves the saved Azure Retail Prices samples on 127.0.0.1 until closed; {@link #base()} is the API's URL. */
    public static final class Azure implements AutoCloseable {
        private final PriceServer server;
        private final URI[] base = new URI[1];

        public Azure() {
            server = new PriceServer(r -> PriceServer.azure(base[0]).apply(r));
            base[0] = server.base();
        }

        public URI base() {
            return URI.create(server.base() + "/api/retail/prices");
        }

        public int requests() {
            return server.requests.size();
        }

        @Override
        public void close() {
            server.close();
        }
    }
}
