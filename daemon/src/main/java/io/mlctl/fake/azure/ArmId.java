package io.mlctl.fake.azure;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A Resource Manager id taken apart: {@code <scope>/providers/<namespace>/<type>/<name>[/<type>/<name>...]}.
 * The scope is a resource group, a subscription, or another resource (for extension resources such as
 * role assignments). Compared without case, as ARM compares ids.
 */
public record ArmId(String id, String subscription, String resourceGroup, String scope, String namespace, List<String> types, List<String> names) {
    public static ArmId parse(String path) {
        String p = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        int at = p.toLowerCase(Locale.ROOT).lastIndexOf("/providers/");
        if (at < 0) throw ArmError.badRequest("InvalidResourceId", "'" + path + "' is not a resource id");
        String scope = p.substring(0, at);
        String[] rest = p.substring(at + "/providers/".length()).split("/");
        if (rest.length < 3 || rest.length % 2 == 0) throw ArmError.badRequest("InvalidResourceId", "'" + path + "' is not a resource id");
        List<String> types = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (int i = 1; i < rest.length; i += 2) {
            types.add(rest[i]);
            names.add(rest[i + 1]);
        }
        String[] s = scope.split("/");
        String subscription = s.length > 2 && s[1].equalsIgnoreCase("subscriptions") ? s[2] : "";
        String group = s.length > 4 && s[3].equalsIgnoreCase("resourceGroups") ? s[4] : "";
        return new ArmId(p, subscription, group, scope, rest[0], List.copyOf(types), List.copyOf(names));
    }

    /** {@code Microsoft.Network/virtualNetworks/subnets}. */
    public String type() {
        return namespace + "/" + String.join("/", types);
    }

    public String name() {
        return names.get(names.size() - 1);
    }

    /** The resource this one is a child of ({@code .../virtualNetworks/v} for a subnet), or its scope for a top-level one. */
    public String parent() {
        if (types.size() == 1) return scope;
        StringBuilder b = new StringBuilder(scope).append("/providers/").append(namespace);
        for (int i = 0; i < types.size() - 1; i++) b.append('/').append(types.get(i)).append('/').append(names.get(i));
        return b.toString();
    }

    /** Whether the scope is a resource group (not a resource: an extension resource's scope is). */
    public boolean inGroup() {
        return !resourceGroup.isEmpty() && scope.split("/").length == 5;
    }

    public String key() {
        return key(id);
    }

    public static String key(String id) {
        String k = id.toLowerCase(Locale.ROOT);
        return k.endsWith("/") ? k.substring(0, k.length() - 1) : k;
    }
}
