package io.mlctl.provider;

import io.mlctl.MlctlException;
import io.mlctl.spec.Environment;
import io.mlctl.spec.Provider;
import java.util.EnumMap;
import java.util.Map;

/**
 * Which driver serves which cloud. The composition root registers one line per provider package;
 * nothing else names a provider's classes, so adding a cloud touches no engine code.
 */
public final class Providers {
    /** Opens a driver for one environment (a command's or one reconcile's worth of work). */
    @FunctionalInterface
    public interface Factory {
        Driver open(Environment environment);
    }

    private final Map<Provider, Factory> factories = new EnumMap<>(Provider.class);

    public Providers register(Provider provider, Factory factory) {
        if (factories.putIfAbsent(provider, factory) != null) throw new IllegalArgumentException("two drivers for " + provider.id());
        return this;
    }

    public boolean supports(Provider provider) {
        return factories.containsKey(provider);
    }

    public Driver driver(Environment environment) {
        Factory f = factories.get(environment.provider());
        if (f == null) {
            throw new MlctlException("no " + environment.provider().id() + " driver in this build yet; run with --sandbox to use the built-in sandbox cloud");
        }
        return f.open(environment);
    }
}
