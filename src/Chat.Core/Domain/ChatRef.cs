namespace Chat.Core.Domain;

/// <summary>
/// A parsed chat id. Direct chats are "{a}_{b}" with the two user ids sorted ordinally
/// (a chat with oneself is "{a}_{a}"); anything without '_' is a group id.
/// </summary>
public readonly record struct ChatRef(string Id, string? UserA, string? UserB)
{
    public bool IsDirect => UserA is not null;

    public static bool TryParse(string? id, out ChatRef chat)
    {
        chat = default;
        if (string.IsNullOrEmpty(id) || id.Length > 200) return false;
        int sep = id.IndexOf('_');
        if (sep < 0)
        {
            chat = new ChatRef(id, null, null);
            return true;
        }
        string a = id[..sep], b = id[(sep + 1)..];
        if (a.Length == 0 || b.Length == 0 || b.Contains('_') || string.CompareOrdinal(a, b) > 0) return false;
        chat = new ChatRef(id, a, b);
        return true;
    }

    public static string Direct(string u1, string u2) =>
        string.CompareOrdinal(u1, u2) <= 0 ? $"{u1}_{u2}" : $"{u2}_{u1}";

    public string? Other(string userId) => UserA == userId ? UserB : UserB == userId ? UserA : null;
}
