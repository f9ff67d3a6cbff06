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
            if (char.IsControl(c)) continue;
            if (sb.Length == maxChars) break;
            sb.Append(c);
        }
        return sb.ToString();
    }

    public static int Utf8Length(string s) => Encoding.UTF8.GetByteCount(s);
}
