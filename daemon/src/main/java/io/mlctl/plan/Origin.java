package io.mlctl.plan;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Where a plan was made: on the sandbox cloud (and in which directory) or on the environment's real cloud, and from
 * which spec paths (as given on the command line: relative to the working directory, or absolute). A saved plan
 * carries it so that apply refuses the plan anywhere else and re-reads the spec from where the plan says.
 */
public record Origin(boolean sandbox, Optional<String> sandboxDirectory, List<String> specs) {
    public Origin {
        Objects.requireNonNull(sandboxDirectory, "sandboxDirectory");
        specs = List.copyOf(specs);
        if (!sandbox && sandboxDirectory.isPresent()) throw new IllegalArgumentException("a sandbox directory for a plan made on the cloud");
    }

    public static Origin sandbox(String directory, List<String> specs) {
        return new Origin(true, Optional.of(directory), specs);
    }

    public static Origin cloud(List<String> specs) {
        return new Origin(false, Optional.empty(), specs);
    }
}
