package io.mlctl.gitops;

import java.util.List;

/**
 * Which environments this daemon replica reconciles. One replica owns them all; several share them by
 * a hash of the environment name over the live members (as Argo CD shards applications across
 * controller replicas), so a dead replica's environments move to the others.
 */
public interface Membership extends AutoCloseable {
    boolean owns(String environment);

    /** This replica's name. */
    String replica();

    /** The live replicas, this one included, in shard order. */
    List<String> members();

    @Override
    default void close() { }

    static Membership single(String replica) {
        return new Membership() {
            @Override
            public boolean owns(String environment) {
                return true;
            }

            @Override
            public String replica() {
                return replica;
            }

            @Override
            public List<String> members() {
                return List.of(replica);
            }
        };
    }
}
