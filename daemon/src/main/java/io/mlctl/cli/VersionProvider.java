package io.mlctl.cli;

import picocli.CommandLine.IVersionProvider;

final class VersionProvider implements IVersionProvider {
    @Override
    public String[] getVersion() {
        String v = VersionProvider.class.getPackage().getImplementationVersion();
        return new String[] {"mlctl " + (v == null ? "dev" : v), "plan format " + io.mlctl.plan.Plan.FORMAT_VERSION};
    }
}
