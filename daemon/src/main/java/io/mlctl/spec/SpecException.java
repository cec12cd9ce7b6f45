package io.mlctl.spec;

import io.mlctl.MlctlException;
import java.util.List;
import java.util.stream.Collectors;

/** The config repository does not validate; carries every error found in one run. */
public final class SpecException extends MlctlException {
    private final List<SpecError> errors;

    public SpecException(List<SpecError> errors) {
        super(errors.isEmpty() ? "invalid spec" : errors.get(0).toString());
        this.errors = List.copyOf(errors.stream().sorted().distinct().toList());
    }

    public SpecException(SpecError error) {
        this(List.of(error));
    }

    public List<SpecError> errors() {
        return errors;
    }

    @Override
    public String userMessage() {
        return errors.stream().map(SpecError::toString).collect(Collectors.joining("\n"));
    }
}
