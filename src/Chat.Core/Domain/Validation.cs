using System.Text;

namespace Chat.Core.Domain;

public static class Validation
{
    public static bool IsValidUsername(string? name)
    {
        if (name is null || name.Length is < 3 or > 32) return false;
        foreach (char c in name)
        {
            bool ok = c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '.' or '_' or '-';
            if (!ok) return false;
        }
        return true;
    }

    public static bool IsValidPassword(string? password) => password is not null && password.Length is >= 8 and <= 128;

    public static bool IsValidClientMsgId(string? id) => !string.IsNullOrEmpty(id) && id.Length <= 64;

    /// <summary>Display names and device names: trimmed, no control characters, bounded.</summary>
    public static string? CleanLabel(string? value, int maxChars)
    {
        if (value is null) return null;
        var sb = new StringBuilder(Math.Min(value.Length, maxChars));
        foreach (char c in value.Trim())
        {
            // Bidi overrides and isolates would let a name reorder the text around it (as file names, see FileNames).
            if (char.IsControl(c) || IsBidiControl(c)) continue;
            if (sb.Length == maxChars) break;
            sb.Append(c);
        }
        return sb.ToString();
    }

    public static int Utf8Length(string s) => Encoding.UTF8.GetByteCount(s);

    /// <summary>Embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) and the direction marks.</summary>
    public static bool IsBidiControl(char c) => c is (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069') or '\u200E' or '\u200F' or '\u061C';
}
