using System.Security.Cryptography;
using System.Text;
using Chat.Core.Domain;

namespace Chat.Core.Files;

/// <summary>What a signed link allows; part of the signed text, so an upload link is not a download link.</summary>
public enum SignedAction
{
    Upload,
    Download,
    Thumbnail,
}

/// <summary>
/// HMAC-SHA256 signed, expiring links: <c>signature = base64url(HMAC(key, "{action}\n{file_id}\n{expires}"))</c>,
/// <c>expires</c> in Unix seconds. Every node must hold the same key (Chat:SigningKey) to honour links made by another.
/// </summary>
public sealed class UrlSigner
{
    private readonly byte[] _key;

    public UrlSigner(byte[] key)
    {
        if (key.Length < 32) throw new ArgumentException("The signing key must have at least 32 bytes.", nameof(key));
        _key = key;
    }

    public string Sign(SignedAction action, string fileId, long expires) =>
        Ids.Base64Url(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(Text(action, fileId, expires))));

    /// <summary>True when the signature is this key's for exactly this action, file and expiry, and it has not expired.</summary>
    public bool Verify(SignedAction action, string fileId, long expires, string? signature, long nowSeconds)
    {
        if (string.IsNullOrEmpty(signature) || signature.Length > 64 || expires < nowSeconds) return false;
        byte[] expected = Encoding.ASCII.GetBytes(Sign(action, fileId, expires));
        byte[] given = Encoding.UTF8.GetBytes(signature);
        return CryptographicOperations.FixedTimeEquals(expected, given);
    }

    private static string Text(SignedAction action, string fileId, long expires) =>
        $"{action.ToString().ToLowerInvariant()}\n{fileId}\n{expires}";

    /// <summary>
    /// The key: Chat:SigningKey when set (its UTF-8 bytes; at least 32 characters), else a random 256-bit key kept in
    /// <c>{dataDir}/signing.key</c>, made on first start. The generated key is per data folder, so a cluster must either
    /// set Chat:SigningKey on every node or share the data folder.
    /// </summary>
    public static byte[] LoadKey(string configured, string dataDir, out bool generated)
    {
        generated = false;
        if (configured.Length > 0)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(configured);
            if (bytes.Length < 32) throw new InvalidOperationException("Chat:SigningKey must be at least 32 characters long.");
            return bytes;
        }
        string path = Path.Combine(dataDir, "signing.key");
        if (File.Exists(path))
        {
            string text = File.ReadAllText(path).Trim();
            return Convert.FromBase64String(text);
        }
        Directory.CreateDirectory(dataDir);
        byte[] key = RandomNumberGenerator.GetBytes(32);
        string temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        File.WriteAllText(temp, Convert.ToBase64String(key));
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        try
        {
            // Two nodes sharing the folder may race on first start: the first rename wins, the other reads its key.
            File.Move(temp, path, overwrite: false);
            generated = true;
            return key;
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(temp);
            return Convert.FromBase64String(File.ReadAllText(path).Trim());
        }
    }
}
