namespace Chat.Core.Domain;

// Typed ids for the hot path (delivery, backplane, commit). Each wraps the wire/store string as it is: wrapping and
// unwrapping cost nothing (a struct of one reference, no boxing), equality is ordinal (string equality), and
// ToString() is the plain id, so an id drops into log messages and frames unchanged. Stores and wire frames stay
// string-based; conversion happens at those edges with `new UserId(s)` / `.Value`.

/// <summary>A user id (32 hex digits).</summary>
public readonly record struct UserId(string Value)
{
    public override string ToString() => Value;

    /// <summary>Wraps a list of ids read from a store or a request (a cold path: one array).</summary>
    public static UserId[] From(IReadOnlyCollection<string> ids)
    {
        var result = new UserId[ids.Count];
        int i = 0;
        foreach (string id in ids) result[i++] = new UserId(id);
        return result;
    }
}

/// <summary>A chat id: a group id, or "{a}_{b}" for a direct chat (see <see cref="ChatRef"/>).</summary>
public readonly record struct ChatId(string Value)
{
    public override string ToString() => Value;
}

/// <summary>A device id (one per login token; several sockets may share it, e.g. two tabs).</summary>
public readonly record struct DeviceId(string Value)
{
    public override string ToString() => Value;
}
