package io.mlctl.apply;

import io.mlctl.MlctlException;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.plan.Action;
import io.mlctl.plan.Change;
import io.mlctl.plan.Plan;
import io.mlctl.provider.CreateRequest;
import io.mlctl.provider.Driver;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.References;
import io.mlctl.spec.ResourceSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Executes a plan: each cloud call is a step in a graph (creates and updates after what they depend
 * on, deletes after whatever refers to what they delete, a replace's create after its delete), run
 * with bounded parallelism. Each step is journaled before it is sent; retryable errors are retried;
 * a failed step skips the steps that need it and lets the others finish.
 */
public final class Applier {
    /** How long after a create returned its id the cloud may still not list it (EC2 and IAM reads lag writes). */
    static final Duration ID_LAG = Duration.ofMinutes(10);

    private final Driver driver;
    private final RetryPolicy retry;
    private final Clock clock;
    private final int parallelism;

    public Applier(Driver driver, RetryPolicy retry, Clock clock, int parallelism) {
        if (parallelism < 1) throw new MlctlException("--parallelism must be at least 1");
        this.driver = driver;
        this.retry = retry;
        this.clock = clock;
        this.parallelism = parallelism;
    }

    private static final class Node {
        final ApplyListener.Step step;
        final Change change;
        final Set<Node> after = new HashSet<>();
        final Set<Node> before = new HashSet<>();
        int waiting;
        /** Subnets or node pools this update creates and deletes (replaces count as both): counted when it succeeds. */
        int componentCreates;
        int componentDeletes;

        Node(ApplyListener.Step step, Change change) {
            this.step = step;
            this.change = change;
        }
    }

    public ApplyResult apply(Environment env, Plan plan, Journal journal, Optional<Journal.Interrupted> resumed, ApplyListener listener) {
        List<Node> nodes = graph(plan);
        String runId = clock.instant().toString() + "-" + java.util.UUID.randomUUID();
        journal.begin(runId, clock.instant().toString(), env.name(), plan.fingerprints().spec() + "/" + plan.fingerprints().inventory());

        Map<String, String> cloudIds = new ConcurrentHashMap<>();
        List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        List<String> skipped = java.util.Collections.synchronizedList(new ArrayList<>());
        AtomicInteger created = new AtomicInteger();
        AtomicInteger updated = new AtomicInteger();
        AtomicInteger deleted = new AtomicInteger();
        AtomicInteger imported = new AtomicInteger();
        AtomicInteger index = new AtomicInteger();
        int total = nodes.size();

        LinkedBlockingQueue<Object> completions = new LinkedBlockingQueue<>();
        ExecutorService pool = Executors.newFixedThreadPool(parallelism, r -> {
            Thread t = new Thread(r, "mlctl-apply");
            t.setDaemon(true);
            return t;
        });
        try {
            Set<Node> pending = new HashSet<>(nodes);
            int running = 0;
            List<Node> ready = new ArrayList<>();
            for (Node n : nodes) if (n.waiting == 0) ready.add(n);
            while (!pending.isEmpty() || running > 0) {
                for (Node n : ready) {
                    pending.remove(n);
                    running++;
                    pool.execute(() -> {
                        int i = index.incrementAndGet();
                        Instant start = clock.instant();
                        try {
                            // Inside the try: a listener may refuse the step (a lost lock) and that must count as its failure.
                            listener.started(n.step, i, total);
                            String id = execute(env, n, runId, resumed, listener, journal);
                            cloudIds.put(n.step.address().toString(), id == null ? "" : id);
                            switch (n.step.op()) {
                                case "create" -> created.incrementAndGet();
                                case "import" -> {
                                    // As the plan counts it: an import that also changes the resource is a change too.
                                    imported.incrementAndGet();
                                    if (!n.change.attributes().isEmpty()) updated.incrementAndGet();
                                }
                                case "update" -> {
                                    updated.incrementAndGet();
                                    created.addAndGet(n.componentCreates);
                                    deleted.addAndGet(n.componentDeletes);
                                }
                                default -> deleted.incrementAndGet();
                            }
                            listener.finished(n.step, i, total, id, Duration.between(start, clock.instant()));
                            completions.add(n);
                        } catch (RuntimeException | Error e) {
                            // Anything, even an Error, must report back or the scheduler would wait forever.
                            String msg = e instanceof MlctlException me ? me.userMessage() : String.valueOf(e);
                            failures.add(n.step + ": " + msg);
                            journal.failed(n.step.op(), n.step.address().toString(), msg);
                            listener.failed(n.step, msg);
                            completions.add(new Failed(n));
                        }
                    });
                }
                ready.clear();
                if (running == 0) {
                    // Only a cycle in the step graph leaves steps waiting with nothing running.
                    for (Node n : pending) failures.add(n.step + ": not run (steps wait on each other)");
                    break;
                }
                Object done = completions.take();
                running--;
                if (done instanceof Failed f) {
                    skipDependents(f.node, pending, skipped, listener);
                } else {
                    Node n = (Node) done;
                    for (Node next : n.after) {
                        if (pending.contains(next) && --next.waiting == 0) ready.add(next);
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MlctlException("apply interrupted; the journal records what was in flight and the next apply finishes it");
        } finally {
            pool.shutdown();
        }
        ApplyResult result = new ApplyResult(created.get(), updated.get(), deleted.get(), imported.get(), new TreeMap<>(cloudIds), failures,
            skipped);
        journal.end(result.ok() ? "complete" : "failed");
        return result;
    }

    private record Failed(Node node) {
    }

    private void skipDependents(Node failed, Set<Node> pending, List<String> skipped, ApplyListener listener) {
        List<Node> todo = new ArrayList<>(failed.after);
        while (!todo.isEmpty()) {
            Node n = todo.remove(todo.size() - 1);
            if (!pending.remove(n)) continue;
            skipped.add(n.step.toString());
            listener.skipped(n.step, failed.step + " failed");
            todo.addAll(n.after);
        }
    }

    private String execute(Environment env, Node n, String runId, Optional<Journal.Interrupted> resumed, ApplyListener listener,
                           Journal journal) {
        Change c = n.change;
        Address a = c.address();
        RetryPolicy.Listener onRetry = (attempt, delay, cause) -> listener.retrying(n.step, attempt, delay, cause.userMessage());
        switch (n.step.op()) {
            case "create" -> {
                // Reuse the token of a create an interrupted apply may have sent, so the cloud dedups it.
                Optional<Journal.Pending> earlier = resumed.flatMap(r -> r.pendingCreate(a.toString()));
                String token = earlier.map(Journal.Pending::token).orElse(env.name() + "/" + runId + "/" + a);
                AtomicReference<String> createdId = new AtomicReference<>(earlier.map(Journal.Pending::cloudId).orElse(null));
                journal.intent("create", a.toString(), token, createdId.get());
                ResourceSpec desired = new ResourceSpec(a, c.after(), c.dependsOn(), null);
                // Only once the making call may have gone out can an unmarked resource of that name be this create's work.
                AtomicBoolean sent = new AtomicBoolean(earlier.map(Journal.Pending::sent).orElse(false));
                Runnable sending = () -> {
                    if (!sent.getAndSet(true)) journal.sent(a.toString());
                };
                // An id reported in this run, or minutes ago by a killed one, may not be listed by the cloud yet.
                AtomicBoolean idMayLag = new AtomicBoolean(earlier.map(Journal.Pending::createdAt).map(Instant::parse)
                    .map(t -> Duration.between(t, clock.instant()).compareTo(ID_LAG) < 0).orElse(false));
                java.util.function.Consumer<String> created = id -> {
                    if (!id.equals(createdId.getAndSet(id))) journal.created(a.toString(), id, clock.instant().toString());
                    idMayLag.set(true);
                };
                ObservedResource made = retry.run(() -> driver.create(env, desired, new CreateRequest(token, sent.get(),
                    Optional.ofNullable(createdId.get()), idMayLag.get(), sending, created)), onRetry);
                journal.done("create", a.toString(), made.cloudId());
                return made.cloudId();
            }
            case "import" -> {
                // Idempotent without a journal token: a retry or a re-run finds its own marker on the resource and goes on.
                journal.intent("import", a.toString(), null, c.cloudId());
                ObservedResource current = new ObservedResource(a, c.cloudId(), c.before(), Map.of());
                ResourceSpec desired = new ResourceSpec(a, c.after(), c.dependsOn(), null);
                ObservedResource out = retry.run(() -> driver.adopt(env, current, desired, c.attributes()), onRetry);
                journal.done("import", a.toString(), out.cloudId());
                return out.cloudId();
            }
            case "update" -> {
                journal.intent("update", a.toString(), null, c.cloudId());
                ObservedResource current = new ObservedResource(a, c.cloudId(), c.before(), Map.of());
                ResourceSpec desired = new ResourceSpec(a, c.after(), c.dependsOn(), null);
                ObservedResource out = retry.run(() -> driver.update(env, current, desired, c.attributes()), onRetry);
                journal.done("update", a.toString(), out.cloudId());
                return out.cloudId();
            }
            default -> {
                journal.intent("delete", a.toString(), null, c.cloudId());
                ObservedResource current = new ObservedResource(a, c.cloudId(), c.before(), Map.of());
                retry.run(() -> {
                    driver.delete(env, current);
                    return null;
                }, onRetry);
                journal.done("delete", a.toString(), c.cloudId());
                return c.cloudId();
            }
        }
    }

    /** The steps of a plan and the order they must run in. */
    static List<Node> graph(Plan plan) {
        Map<String, Node> writes = new LinkedHashMap<>();   // create/update by address
        Map<String, List<Node>> deletes = new HashMap<>();   // delete(s) by address (duplicates share one)
        List<Node> all = new ArrayList<>();
        for (Change c : plan.changes()) {
            // A replaced subnet or node pool is the work of its resource's update step; it has no step of its own.
            if (c.address().isComponent()) continue;
            String addr = c.address().toString();
            if (c.action() == Action.DELETE || c.action() == Action.REPLACE) {
                Node d = new Node(new ApplyListener.Step(c.address(), c.action(), "delete", c.cloudId()), c);
                deletes.computeIfAbsent(addr, k -> new ArrayList<>()).add(d);
                all.add(d);
            }
            if (c.action() != Action.DELETE) {
                String op = switch (c.action()) {
                    case UPDATE -> "update";
                    case IMPORT -> "import";
                    default -> "create";
                };
                Node w = new Node(new ApplyListener.Step(c.address(), c.action(), op, c.cloudId()), c);
                writes.put(addr, w);
                all.add(w);
                for (Node d : deletes.getOrDefault(addr, List.of())) edge(d, w);
            }
        }
        for (Node w : writes.values()) {
            for (Address dep : w.change.dependsOn()) {
                Node first = writes.get(dep.toString());
                if (first != null) edge(first, w);
            }
        }
        // Whatever referred to a resource (before the change) lets go of it before it is deleted.
        for (Node n : all) {
            // A create or an import had no part in this environment before: nothing of it has to let go.
            if (n.step.op().equals("create") || n.step.op().equals("import")) continue;
            Set<Address> still = n.step.op().equals("update") ? References.of(n.change.address().type(), n.change.after()) : Set.of();
            for (Address ref : References.of(n.change.address().type(), n.change.before())) {
                if (still.contains(ref)) continue; // re-pointed at the replacement, not let go
                for (Node d : deletes.getOrDefault(ref.toString(), List.of())) {
                    if (d != n) edge(n, d);
                }
            }
        }
        for (Change c : plan.changes()) {
            Node w = c.address().isComponent() ? writes.get(c.address().resource().toString()) : null;
            if (w == null) continue;
            if (c.action() == Action.REPLACE) w.componentCreates++;
            w.componentDeletes++;
        }
        // An update that replaces or removes a subnet or node pool waits until what goes with it has let go.
        for (Node u : writes.values()) {
            if (!u.step.op().equals("update") || u.componentDeletes == 0) continue;
            for (List<Node> ds : deletes.values()) {
                for (Node d : ds) {
                    if (References.of(d.change.address().type(), d.change.before()).contains(u.change.address())) {
                        edge(d, u);
                    }
                }
            }
        }
        return all;
    }

    private static void edge(Node first, Node then) {
        if (first.after.add(then)) {
            then.before.add(first);
            then.waiting++;
        }
    }
}
