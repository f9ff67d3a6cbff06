using Chat.Core.Chats;
using Chat.Core.Domain;
using Chat.Core.Storage;

namespace Chat.Core.Messaging;

/// <summary>
/// <c>@username</c> mentions (PROTOCOL.md "Mentions"): an <c>@</c> at the start or after whitespace, then a username
/// (<c>[a-z0-9._-]</c>, 3–32 characters, case-insensitive). A name followed by sentence punctuation ("@ann.") also
/// tries the name without its trailing dots, dashes and underscores.
/// </summary>
public static class Mentions
{
    /// <summary>More distinct names than this in one message are ignored (each costs a lookup).</summary>
    public const int MaxNames = 50;

    /// <summary>The distinct lower-case names after <c>@</c>, in order of appearance (with trimmed variants).</summary>
    public static IReadOnlyList<string> Parse(string? content)
    {
        if (string.IsNullOrEmpty(content) || !content.Contains('@')) return [];
        var names = new List<string>();
        for (int i = content.IndexOf('@'); i >= 0 && i < content.Length; i = content.IndexOf('@', i + 1))
        {
            if (i > 0 && !char.IsWhiteSpace(content[i - 1])) continue;
            int end = i + 1;
            while (end < content.Length && end - i - 1 < 33 && IsNameChar(content[end])) end++;
            if (end < content.Length && IsNameChar(content[end])) continue; // longer than any username
            string token = content[(i + 1)..end].ToLowerInvariant();
            Add(names, token);
            Add(names, token.TrimEnd('.', '-', '_'));
            if (names.Count >= MaxNames) break;
        }
        return names;
    }

    private static void Add(List<string> names, string name)
    {
        if (Validation.IsValidUsername(name) && !names.Contains(name)) names.Add(name);
    }

    private static bool IsNameChar(char c) =>
        c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '.' or '_' or '-';
}

/// <summary>Turns the names of <see cref="Mentions.Parse"/> into the ids of the chat's members they name.</summary>
public sealed class MentionResolver(IUserStore users)
{
    /// <summary>Mentioned members' ids in order of first mention; no query at all when the content has no <c>@</c>.</summary>
    public async ValueTask<IReadOnlyList<string>> ResolveAsync(string content, ChatMembers members, CancellationToken ct)
    {
        var names = Mentions.Parse(content);
        if (names.Count == 0) return [];
        var ids = new List<string>(names.Count);
        foreach (string name in names)
        {
            var user = await users.FindByUsernameAsync(name, ct);
            if (user is not null && members.Contains(new UserId(user.UserId)) && !ids.Contains(user.UserId)) ids.Add(user.UserId);
        }
        return ids;
    }
}
