package io.mlctl.cost.update;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/** A price source on 127.0.0.1: answers from saved samples and records every request (path, query and headers). */
final class PriceServer implements AutoCloseable {
    record Request(String path, String query, Map<String, List<String>> headers) {
        String header(String name) {
            return headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name)).map(e -> e.getValue().get(0)).findFirst().orElse(null);
        }
    }

    record Answer(int status, String body) {
        static Answer ok(String body) {
            return new Answer(200, body);
        }
    }

    final List<Request> requests = new CopyOnWriteArrayList<>();
    private final HttpServer server;

    PriceServer(Function<Request, Answer> handler) {
        try {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.createContext("/", ex -> {
            URI uri = ex.getRequestURI();
            String query = uri.getRawQuery() == null ? "" : URLDecoder.decode(uri.getRawQuery(), StandardCharsets.UTF_8);
            Request r = new Request(uri.getRawPath(), query, Map.copyOf(ex.getRequestHeaders()));
            requests.add(r);
            Answer a;
            try {
                a = handler.apply(r);
            } catch (RuntimeException e) {
                a = new Answer(500, "test server: " + e);
            }
            byte[] body = a.body().getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(a.status(), body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
    }

    URI base() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    static String sample(String name) {
        try (InputStream in = PriceServer.class.getResourceAsStream("/prices/" + name)) {
            if (in == null) throw new IllegalArgumentException("no sample " + name);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** AWS's bulk API: one offer file per offer and region (eu-central-1's EC2 has prices of its own). */
    static Answer aws(Request r) {
        String[] p = r.path().split("/"); // /offers/v1.0/aws/<offer>/current/<region>/index.json
        if (p.length != 8 || !p[7].equals("index.json")) return new Answer(404, "<Error><Code>NoSuchKey</Code></Error>");
        return switch (p[4]) {
            case "AmazonEC2" -> Answer.ok(sample(p[6].equals("eu-central-1") ? "aws-ec2-eu-central-1.json" : "aws-ec2.json"));
            case "AmazonSageMaker" -> Answer.ok(sample("aws-sagemaker.json"));
            case "AmazonS3" -> Answer.ok(sample("aws-s3.json"));
            case "AmazonEKS" -> Answer.ok(sample("aws-eks.json"));
            default -> new Answer(404, "{}");
        };
    }

    /** Azure's Retail Prices API: one query per service, the VM answer in two pages. */
    static Function<Request, Answer> azure(URI base) {
        return r -> {
            String q = r.query();
            if (q.contains("serviceName eq 'Virtual Machines'")) {
                if (q.contains("$skip=100")) return Answer.ok(sample("azure-vm-2.json"));
                String filter = q.substring(q.indexOf("$filter=") + 8);
                return Answer.ok(sample("azure-vm-1.json").replace("{{BASE}}", base + r.path()).replace("{{FILTER}}",
                    java.net.URLEncoder.encode(filter, StandardCharsets.UTF_8).replace("+", "%20")));
            }
            if (q.contains("serviceName eq 'Storage'")) return Answer.ok(sample("azure-storage.json"));
            if (q.contains("serviceName eq 'Azure Kubernetes Service'")) return Answer.ok(sample("azure-aks.json"));
            return Answer.ok("{\"Items\": [], \"NextPageLink\": null, \"Count\": 0}");
        };
    }

    /** GCP's Cloud Billing Catalog: SKUs per service, Compute Engine's in two pages. */
    static Answer gcp(Request r) {
        if (r.path().equals("/v1/services/6F81-5844-456A/skus")) {
            return Answer.ok(sample(r.query().contains("pageToken=CiAKGjBpNDd2Nmp3Z3V2cnB4bzZ0bGNpMmRrZhAF") ? "gcp-compute-2.json" : "gcp-compute-1.json"));
        }
        return switch (r.path()) {
            case "/v1/services/C7E2-9256-1C43/skus" -> Answer.ok(sample("gcp-vertex.json"));
            case "/v1/services/CCD8-9BF1-090E/skus" -> Answer.ok(sample("gcp-gke.json"));
            case "/v1/services/95FF-2EF5-5EA1/skus" -> Answer.ok(sample("gcp-storage.json"));
            default -> new Answer(404, "{\"error\": {\"code\": 404, \"message\": \"not found\"}}");
        };
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
