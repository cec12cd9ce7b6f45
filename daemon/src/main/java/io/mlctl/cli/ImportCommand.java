package io.mlctl.cli;

import io.mlctl.MlctlException;
import io.mlctl.apply.LockService;
import io.mlctl.locks.LockServices;
import io.mlctl.planner.PlanOptions;
import io.mlctl.spec.Address;
import io.mlctl.spec.ConfigRepo;
import io.mlctl.spec.Environment;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "import", mixinStandardHelpOptions = true,
    description = {"Take over an existing resource that no mlctl environment manages, as a resource the spec declares.",
        "The resource is read by its cloud id; the plan shows it as an import, with the attribute changes taking it over implies, "
            + "and apply writes this environment's ownership marker on it. From then on it is planned, updated and destroyed like "
            + "anything mlctl created. A resource another environment manages is refused, and nothing is ever deleted or recreated "
            + "by an import: where the resource differs from the spec in what cannot change in place, make the spec match it.",
        "To review an import in a pull request instead, list it in the spec (spec.import: [{to: ADDRESS, id: CLOUD-ID}]) and let "
            + "plan and apply do it.",
        "Examples:",
        "  mlctl import bucket.ml-data legacy-ml-data envs/training.yaml",
        "  mlctl import network.ml-vpc vpc-0a1b2c3d4e5f60718 envs/ --env training-dev"})
final class ImportCommand implements Callable<Integer> {
    @ParentCommand MlctlCommand root;
    @Mixin CloudOptions cloud;
    @Mixin LockOptions locking;
    @Mixin QuietOption output;

    @Parameters(index = "0", paramLabel = "ADDRESS", description = "The resource in the spec to import as (type.name, e.g. bucket.ml-data).")
    String address;

    @Parameters(index = "1", paramLabel = "CLOUD-ID", description = "The cloud's id of the existing resource (see the README for each type's form).")
    String id;

    @Parameters(index = "2..*", arity = "1..*", paramLabel = "PATH", description = "Spec files or folders of them (a config repository).")
    List<Path> paths;

    @Option(names = {"-e", "--env"}, paramLabel = "NAME", description = "The environment that declares ADDRESS (needed when several do).")
    String env;

    @Option(names = "--auto-approve", description = "Skip the interactive approval.")
    boolean autoApprove;

    @Override
    public Integer call() {
        Services s = root.services;
        Address target = Address.parse(address);
        if (target.isComponent()) {
            throw new MlctlException("import " + address + ": a subnet or node pool is part of its " + target.resource().type().id()
                + "; import " + target.resource() + " instead");
        }
        if (id.isBlank()) throw new MlctlException("import " + address + ": CLOUD-ID is empty");
        Commands.requireNonInteractiveApproval(paths, autoApprove, false, "import");
        ConfigRepo repo = s.loadConfig(paths);
        Environment environment = declaring(repo.select(env), target);
        LockService locks = locking.open(s);
        try {
            ApplyRunner runner = new ApplyRunner(s, s.color(root.noColor), locks, output.quiet ? ApplyReport.Mode.QUIET : ApplyReport.Mode.TEXT);
            // The import is planned and applied as the spec's import list would be, limited to this one resource.
            runner.run(environment.importing(target, id, null), cloud, new PlanOptions(false, Set.of(target), s.clock().instant()),
                Optional.empty(), autoApprove, false, 1, "mlctl import", ImportCommand::onlyTheImport);
        } finally {
            LockServices.close(locks);
        }
        return 0;
    }

    /**
     * terraform's import never creates: a target whose dependencies do not exist yet would pull their creates into the plan
     * (targeting includes what a target needs). Refused before anything changes, naming them.
     */
    private static void onlyTheImport(io.mlctl.plan.Plan plan) {
        List<String> others = plan.changes().stream().filter(c -> !(c instanceof io.mlctl.plan.Change.Import))
            .map(c -> c.action().id() + " " + c.address()).toList();
        if (others.isEmpty()) return;
        throw new MlctlException("mlctl import takes over what exists and changes nothing else, but this one would also "
            + String.join(", ", others) + "; apply those first (mlctl apply --target ADDRESS) or import them too");
    }

    /** The one environment whose spec declares {@code target}: import never makes up a resource the spec lacks. */
    private Environment declaring(List<Environment> envs, Address target) {
        List<Environment> with = envs.stream().filter(e -> e.resource(target).isPresent()).toList();
        if (with.size() == 1) return with.get(0);
        if (with.size() > 1) {
            throw new MlctlException("import " + target + ": declared in environments " + String.join(", ", with.stream().map(Environment::name).toList())
                + "; choose one with --env");
        }
        Set<String> known = new TreeSet<>();
        envs.forEach(e -> e.resources().forEach(r -> known.add(r.address().toString())));
        String hint = io.mlctl.util.Typos.closest(target.toString(), known).map(c -> "; did you mean " + c + "?").orElse("");
        throw new MlctlException("import " + target + ": no environment" + (envs.size() == 1 ? " (" + envs.get(0).name() + ")" : "")
            + " declares it; add it to spec.resources first, describing the resource as it is" + hint);
    }
}
