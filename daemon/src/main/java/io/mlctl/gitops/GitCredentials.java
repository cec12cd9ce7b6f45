package io.mlctl.gitops;

import io.mlctl.MlctlException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.eclipse.jgit.api.TransportCommand;
import org.eclipse.jgit.transport.SshTransport;
import org.eclipse.jgit.transport.UsernamePasswordCredentialsProvider;
import org.eclipse.jgit.transport.sshd.SshdSessionFactory;
import org.eclipse.jgit.transport.sshd.SshdSessionFactoryBuilder;

/**
 * How the daemon authenticates to its config repository: an HTTPS token read from a file or an
 * environment variable (never from a flag, so it stays out of process listings and logs), the user
 * and password written into an HTTPS URL ({@code https://TOKEN@host/…}), or an SSH key file. The
 * secret is never printed.
 */
public final class GitCredentials {
    /** HTTP Basic credentials, and where they came from (for {@link #toString}). */
    private record Basic(String user, String password, String origin) {
    }

    private final Optional<Basic> basic;
    private final Optional<Path> sshKey;
    private SshdSessionFactory ssh;

    private GitCredentials(Optional<Basic> basic, Optional<Path> sshKey) {
        this.basic = basic;
        this.sshKey = sshKey;
    }

    public static GitCredentials none() {
        return new GitCredentials(Optional.empty(), Optional.empty());
    }

    public static GitCredentials of(Optional<Path> tokenFile, Optional<String> tokenEnv, Optional<Path> sshKey, Map<String, String> env) {
        Optional<String> token = Optional.empty();
        if (tokenFile.isPresent()) {
            try {
                token = Optional.of(Files.readString(tokenFile.get()).trim());
            } catch (IOException e) {
                throw new MlctlException("cannot read the Git token file " + tokenFile.get() + ": " + e.getMessage());
            }
        } else if (tokenEnv.isPresent()) {
            String v = env.get(tokenEnv.get());
            if (v == null || v.isBlank()) throw new MlctlException("environment variable " + tokenEnv.get() + " (the Git token) is not set");
            token = Optional.of(v.trim());
        }
        sshKey.filter(k -> !Files.isReadable(k)).ifPresent(k -> {
            throw new MlctlException("cannot read the SSH key file " + k);
        });
        // Forges accept a token as the password of any user name over HTTPS.
        return new GitCredentials(token.map(t -> new Basic("x-access-token", t, "token")), sshKey);
    }

    /**
     * These credentials, or else the user and password an HTTP(S) URL carried (GitHub takes a token as the
     * user name with no password). A token given by file or variable wins: it is the explicit setting.
     */
    GitCredentials orUserInfo(String urlUser, String urlPassword) {
        if (basic.isPresent() || urlUser == null || urlUser.isEmpty()) return this;
        return new GitCredentials(Optional.of(new Basic(urlUser, urlPassword == null ? "" : urlPassword, "url-userinfo")), sshKey);
    }

    /** Applies these credentials to a JGit fetch, clone or push. */
    public <C extends TransportCommand<C, ?>> C apply(C command) {
        // JGit never answers an HTTP 401 with the user info of a URL by itself, only through a credentials provider.
        basic.ifPresent(b -> command.setCredentialsProvider(new UsernamePasswordCredentialsProvider(b.user(), b.password())));
        sshKey.ifPresent(key -> command.setTransportConfigCallback(transport -> {
            if (transport instanceof SshTransport st) st.setSshSessionFactory(sshFactory(key));
        }));
        return command;
    }

    private synchronized SshdSessionFactory sshFactory(Path key) {
        if (ssh == null) {
            Path home = Path.of(System.getProperty("user.home"));
            ssh = new SshdSessionFactoryBuilder().setHomeDirectory(home.toFile()).setSshDirectory(home.resolve(".ssh").toFile())
                .setDefaultIdentities(dir -> List.of(key)).build(null);
        }
        return ssh;
    }

    @Override
    public String toString() {
        return basic.map(b -> b.origin() + "(***)").orElseGet(() -> sshKey.map(k -> "ssh-key(" + k + ")").orElse("none"));
    }
}
