using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;

namespace Chat.Core.Notifications;

/// <summary>
/// The server's VAPID key pair (RFC 8292), P-256, base64url: configured (<c>Chat:Push:VapidPublicKey</c> and
/// <c>VapidPrivateKey</c>), or generated on first start into <c>{DataDir}/vapid.json</c> (mode 0600) and read from there
/// afterwards. Subscriptions are bound to the public key: changing it (docs/push.md, key rotation) means every browser
/// must subscribe again.
/// </summary>
public sealed class VapidKeys
{
    public const string FileName = "vapid.json";

    private VapidKeys(string publicKey, string privateKey)
    {
        PublicKey = publicKey;
        PrivateKey = privateKey;
    }

    /// <summary>Uncompressed P-256 point (65 bytes), base64url: what browsers pass as <c>applicationServerKey</c>.</summary>
    public string PublicKey { get; }
    /// <summary>The private scalar (32 bytes), base64url.</summary>
    public string PrivateKey { get; }

    public static VapidKeys Load(PushOptions options, string dataDir)
    {
        bool hasPublic = options.VapidPublicKey.Length > 0, hasPrivate = options.VapidPrivateKey.Length > 0;
        if (hasPublic != hasPrivate)
            throw new InvalidOperationException("Chat:Push:VapidPublicKey and Chat:Push:VapidPrivateKey must be set together (or neither, to generate a pair into the data folder).");
        if (hasPublic) return Checked(options.VapidPublicKey, options.VapidPrivateKey, "Chat:Push:VapidPublicKey/VapidPrivateKey");

        string path = Path.Combine(dataDir, FileName);
        if (File.Exists(path))
        {
            var stored = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(path)) ?? [];
            return Checked(stored.GetValueOrDefault("public_key") ?? "", stored.GetValueOrDefault("private_key") ?? "", path);
        }
        var keys = Generate();
        Directory.CreateDirectory(dataDir);
        string json = JsonSerializer.Serialize(new Dictionary<string, string> { ["public_key"] = keys.PublicKey, ["private_key"] = keys.PrivateKey });
        var file = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) file.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite; // 0600: a private key
        using (var w = new StreamWriter(path, System.Text.Encoding.UTF8, file)) w.Write(json);
        return keys;
    }

    public static VapidKeys Generate()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var p = ec.ExportParameters(includePrivateParameters: true);
        byte[] point = [0x04, .. p.Q.X!, .. p.Q.Y!];
        return new VapidKeys(Base64Url.EncodeToString(point), Base64Url.EncodeToString(p.D!));
    }

    private static VapidKeys Checked(string publicKey, string privateKey, string source)
    {
        try
        {
            byte[] point = Base64Url.DecodeFromChars(publicKey), d = Base64Url.DecodeFromChars(privateKey);
            if (point.Length != 65 || point[0] != 0x04 || d.Length != 32) throw new FormatException("wrong key length");
            // The pair must belong together: import it whole (throws when the point is not the scalar's).
            using var ec = ECDsa.Create(new ECParameters
            {
                Curve = ECCurve.NamedCurves.nistP256,
                Q = new ECPoint { X = point[1..33], Y = point[33..] },
                D = d,
            });
            return new VapidKeys(publicKey, privateKey);
        }
        catch (Exception ex) when (ex is FormatException or CryptographicException)
        {
            throw new InvalidOperationException($"The VAPID key pair in {source} is not a base64url P-256 key pair (65-byte public point, 32-byte private key).", ex);
        }
    }
}
