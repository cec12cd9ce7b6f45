package io.mlctl.cli;

import io.mlctl.catalog.Catalog;
import io.mlctl.util.BuildInfo;
import picocli.CommandLine.IVersionProvider;

/** {@code mlctl --version}: the same lines as {@code mlctl version}. */
final class VersionProvider implements IVersionProvider {
    @Override
    public String[] getVersion() {
        return VersionCommand.lines(BuildInfo.current(), Catalog.loadDefault()).toArray(String[]::new);
    }
}
