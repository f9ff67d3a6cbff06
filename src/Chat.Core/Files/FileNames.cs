using System.Text;
using Chat.Core.Domain;

namespace Chat.Core.Files;

/// <summary>
/// Display names of uploaded files. The name is only ever shown (and put in Content-Disposition); stored blobs are
/// named by id, so sanitizing here is about what users see, not about paths.
/// </summary>
public static class FileNames
{
    public const int MaxUtf8Bytes = 255;

    /// <summary>
    /// Null with a reason when the name must be refused (empty, over 255 UTF-8 bytes, control characters); otherwise the
    /// display name with path separators and <c>..</c> neutralised and bidirectional overrides removed
    /// (they make "evil‮gnp.exe" look like "evilexe.png").
    /// </summary>
    public static string? Sanitize(string? name, out string? error)
    {
        error = null;
        if (string.IsNullOrWhiteSpace(name))
        {
            error = "file_name is required.";
            return null;
        }
        if (Encoding.UTF8.GetByteCount(name) > MaxUtf8Bytes)
        {
            error = $"file_name must be at most {MaxUtf8Bytes} bytes of UTF-8.";
            return null;
        }
        foreach (char c in name)
        {
            if (char.IsControl(c))
            {
                error = "file_name must not contain control characters.";
                return null;
            }
        }

        var sb = new StringBuilder(name.Length);
        foreach (char c in name)
            if (!Validation.IsBidiControl(c)) sb.Append(c);
        // Path segments "", "." and ".." mean something to file systems and URLs; as display text they are dropped,
        // and separators become '_': "../../etc/passwd" is shown as "etc_passwd".
        var segments = sb.ToString().Split('/', '\\')
            .Where(s => s.Trim() is not ("" or "." or ".."));
        string joined = string.Join('_', segments);
        while (joined.Contains("..", StringComparison.Ordinal)) joined = joined.Replace("..", ".", StringComparison.Ordinal);
        joined = joined.Trim();
        return joined.Length == 0 ? "file" : joined;
    }

    /// <summary>A MIME type as <c>type/subtype</c> (lower case, parameters dropped); anything else is <c>application/octet-stream</c>.</summary>
    public static string CleanContentType(string? type)
    {
        const string Fallback = "application/octet-stream";
        if (string.IsNullOrWhiteSpace(type)) return Fallback;
        string t = type.Split(';')[0].Trim().ToLowerInvariant();
        int slash = t.IndexOf('/', StringComparison.Ordinal);
        if (t.Length > 127 || slash <= 0 || slash == t.Length - 1 || t.IndexOf('/', slash + 1) >= 0) return Fallback;
        foreach (char c in t)
        {
            bool token = c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '/' or '!' or '#' or '$' or '&' or '-' or '^' or '_' or '.' or '+';
            if (!token) return Fallback;
        }
        return t;
    }

    /// <summary>Images a browser may show inline and we can thumbnail. SVG is excluded: it can carry script.</summary>
    public static bool IsRasterImage(string contentType) =>
        contentType.StartsWith("image/", StringComparison.Ordinal) && !contentType.StartsWith("image/svg", StringComparison.Ordinal);

    /// <summary>Served inline (shown in the page); everything else is a download (Content-Disposition: attachment).</summary>
    public static bool IsInline(string contentType) =>
        IsRasterImage(contentType) || contentType.StartsWith("video/", StringComparison.Ordinal);
}
