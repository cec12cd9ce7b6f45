package io.mlctl.graph;

import io.mlctl.MlctlException;
import io.mlctl.spec.Address;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/** Resources and what each depends on. Edges to addresses outside the graph are ignored. */
public final class ResourceGraph {
    private final Map<Address, Set<Address>> dependencies;
    private final Map<Address, Set<Address>> dependents;

    public ResourceGraph(Map<Address, ? extends Set<Address>> deps) {
        Map<Address, Set<Address>> d = new TreeMap<>();
        Map<Address, Set<Address>> r = new TreeMap<>();
        deps.keySet().forEach(a -> {
            d.put(a, new TreeSet<>());
            r.put(a, new TreeSet<>());
        });
        deps.forEach((a, ds) -> ds.stream().filter(deps::containsKey).forEach(x -> {
            d.get(a).add(x);
            r.get(x).add(a);
        }));
        this.dependencies = Collections.unmodifiableMap(d);
        this.dependents = Collections.unmodifiableMap(r);
    }

    public Set<Address> nodes() {
        return dependencies.keySet();
    }

    public Set<Address> dependenciesOf(Address a) {
        return Collections.unmodifiableSet(dependencies.getOrDefault(a, Set.of()));
    }

    public Set<Address> dependentsOf(Address a) {
        return Collections.unmodifiableSet(dependents.getOrDefault(a, Set.of()));
    }

    /** A cycle as a path that starts and ends at the same node, if there is one. */
    public Optional<List<Address>> findCycle() {
        Map<Address, Integer> state = new HashMap<>(); // 1 = on stack, 2 = done
        for (Address start : dependencies.keySet()) {
            if (state.containsKey(start)) continue;
            Deque<Address> path = new ArrayDeque<>();
            Deque<java.util.Iterator<Address>> its = new ArrayDeque<>();
            path.push(start);
            its.push(dependencies.get(start).iterator());
            state.put(start, 1);
            while (!path.isEmpty()) {
                java.util.Iterator<Address> it = its.peek();
                if (it.hasNext()) {
                    Address next = it.next();
                    Integer s = state.get(next);
                    if (s == null) {
                        state.put(next, 1);
                        path.push(next);
                        its.push(dependencies.get(next).iterator());
                    } else if (s == 1) {
                        List<Address> stack = new ArrayList<>(path);
                        Collections.reverse(stack);
                        List<Address> cycle = new ArrayList<>(stack.subList(stack.indexOf(next), stack.size()));
                        cycle.add(next);
                        return Optional.of(cycle);
                    }
                } else {
                    state.put(path.pop(), 2);
                    its.pop();
                }
            }
        }
        return Optional.empty();
    }

    /** Dependencies first; among nodes ready at the same time, address order (deterministic). */
    public List<Address> topologicalOrder() {
        Map<Address, Integer> remaining = new HashMap<>();
        PriorityQueue<Address> ready = new PriorityQueue<>();
        dependencies.forEach((a, ds) -> {
            remaining.put(a, ds.size());
            if (ds.isEmpty()) ready.add(a);
        });
        List<Address> order = new ArrayList<>(dependencies.size());
        while (!ready.isEmpty()) {
            Address a = ready.poll();
            order.add(a);
            for (Address dep : dependents.get(a)) {
                if (remaining.merge(dep, -1, Integer::sum) == 0) ready.add(dep);
            }
        }
        if (order.size() != dependencies.size()) {
            throw new MlctlException("dependency cycle: " + findCycle().map(ResourceGraph::describe).orElse("?"));
        }
        return order;
    }

    public static String describe(List<Address> cycle) {
        return String.join(" -> ", cycle.stream().map(Address::toString).toList());
    }

    /** Graphviz DOT, edges pointing from a resource to what it depends on (terraform's convention). */
    public String toDot(String title) {
        StringBuilder b = new StringBuilder("digraph \"").append(title.replace("\"", "'")).append("\" {\n");
        b.append("  rankdir = \"RL\";\n  node [shape = box];\n");
        for (Address a : dependencies.keySet()) b.append("  \"").append(a).append("\";\n");
        dependencies.forEach((a, ds) -> ds.forEach(d -> b.append("  \"").append(a).append("\" -> \"").append(d).append("\";\n")));
        return b.append("}\n").toString();
    }
}
