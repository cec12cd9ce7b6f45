package io.mlctl.cli;

import io.mlctl.util.BuildInfo;
import picocli.CommandLine.IVersionProvider;

final class VersionProvider implements IVersionProvider {
    @Override
    public String[] getVersion() {
        BuildInfo build = BuildInfo.current();
        String version = build.version().equals(BuildInfo.UNKNOWN) ? "dev" : build.version();
        return new String[] {"mlctl " + version + " (commit " + build.commit() + ")", "plan format " + io.mlctl.plan.Plan.FORMAT_VERSION};
    }
}
