using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using Chat.Client;
using Chat.Protocol;

namespace Chat.LoadTest;

public sealed class UserEntry
{
    public string Username { get; set; } = "";
    public string Password { get; set; } = "";
    public string UserId { get; set; } = "";
    public string DeviceId { get; set; } = "";
    public string Token { get; set; } = "";
}

public sealed class UsersFile
{
    public string Target { get; set; } = "";
    public string Prefix { get; set; } = "";
    public long CreatedAt { get; set; }
    public List<UserEntry> Users { get; set; } = [];
}

/// <summary>The users file is the tool's own store (not a wire type): users registered once, reused across runs.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, WriteIndented = false)]
[JsonSerializable(typeof(UsersFile))]
public sealed partial class UsersFileJson : JsonSerializerContext;

/// <summary>
/// The bench's REST side: Chat.Client's <see cref="ChatApi"/> (one per token, cheap) over one HttpClient sized for
/// thousands of parallel registrations, plus the two operational endpoints the SDK has no method for.
/// </summary>
public sealed class Api : IDisposable
{
    private const string DeviceName = "loadtest";
    private readonly HttpClient _http;
    public Uri BaseUri { get; }

    public Api(Uri baseUri)
    {
        BaseUri = baseUri;
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 256,
            PooledConnectionLifetime = TimeSpan.FromMinutes(10),
            ConnectTimeout = TimeSpan.FromSeconds(10),
            AutomaticDecompression = DecompressionMethods.None,
            UseProxy = false,
        };
        _http = new HttpClient(handler) { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(60) };
    }

    public void Dispose() => _http.Dispose();

    /// <summary>The SDK signed in as <paramref name="token"/> (ChatApi holds one token, so each user gets its own).</summary>
    public ChatApi As(string? token = null) => new(_http, token);

    public async Task<bool> HealthyAsync(CancellationToken ct)
    {
        try
        {
            using var r = await As().RawAsync(HttpMethod.Get, "/healthz", authorize: false, ct: ct);
            return r.IsSuccessStatusCode;
        }
        catch (HttpRequestException) { return false; }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested) { return false; }
    }

    /// <summary>Sums of the server's chat_* Prometheus series (labels folded), or null when /metrics is absent.</summary>
    public async Task<Dictionary<string, double>?> ScrapeAsync(CancellationToken ct)
    {
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(TimeSpan.FromSeconds(5));
            using var r = await As().RawAsync(HttpMethod.Get, "/metrics", authorize: false, ct: cts.Token);
            if (!r.IsSuccessStatusCode) return null;
            string text = await r.Content.ReadAsStringAsync(cts.Token);
            var d = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var line in text.Split('\n'))
            {
                if (!line.StartsWith("chat_", StringComparison.Ordinal) || line.Contains("_bucket", StringComparison.Ordinal)) continue;
                int brace = line.IndexOf('{', StringComparison.Ordinal);
                int space = line.LastIndexOf(' ');
                if (space < 0) continue;
                string name = brace > 0 ? line[..brace] : line[..line.IndexOf(' ', StringComparison.Ordinal)];
                if (double.TryParse(line[(space + 1)..], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double v))
                    d[name] = d.GetValueOrDefault(name) + v;
            }
            return d;
        }
        catch (HttpRequestException) { return null; }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested) { return null; }
    }

    /// <summary>Register; when the name is taken, log in instead. Returns null on 401 from login (wrong password).</summary>
    public async Task<AuthResponse?> RegisterOrLoginAsync(string username, string password, CancellationToken ct)
    {
        try
        {
            return await As().RegisterAsync(username, password, deviceName: DeviceName, ct: ct);
        }
        catch (ChatApiException e) when (e.Status == HttpStatusCode.Conflict)
        {
        }
        try
        {
            return await As().LoginAsync(username, password, DeviceName, ct);
        }
        catch (ChatApiException e) when (e.Status == HttpStatusCode.Unauthorized)
        {
            return null;
        }
    }

    /// <summary>GET /api/users/me: 200 → token valid, 401 → not.</summary>
    public async Task<bool> TokenValidAsync(string token, CancellationToken ct)
    {
        try
        {
            await As(token).MeAsync(ct);
            return true;
        }
        catch (ChatApiException e) when (e.Status == HttpStatusCode.Unauthorized)
        {
            return false;
        }
    }
}

/// <summary>Setup phase: make sure the users file holds N valid users for this target (register fast, reuse across runs).</summary>
public static class UserSetup
{
    public const string Password = "loadtest-password-1";

    public static async Task<List<UserEntry>> EnsureAsync(Api api, string path, string prefix, int count, int parallel, TimeSpan timeout, CancellationToken ct)
    {
        UsersFile file = Load(path) ?? new UsersFile { Target = api.BaseUri.ToString(), Prefix = prefix, CreatedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() };
        if (file.Prefix.Length > 0 && file.Prefix != prefix)
            throw new UsageException($"users file {path} was made with --user-prefix {file.Prefix}; use that prefix or another file");
        file.Prefix = prefix;
        if (!string.Equals(file.Target, api.BaseUri.ToString(), StringComparison.Ordinal))
            Console.WriteLine($"note: users file was made for {file.Target}; checking its tokens against {api.BaseUri}");
        file.Target = api.BaseUri.ToString();

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);

        // Tokens of an earlier run are still good unless the server's data was wiped: probe a few, re-login all when one fails.
        bool revalidate = false;
        if (file.Users.Count > 0)
        {
            foreach (var u in new[] { file.Users[0], file.Users[^1], file.Users[file.Users.Count / 2] })
                if (!await api.TokenValidAsync(u.Token, cts.Token)) { revalidate = true; break; }
        }

        var users = new UserEntry?[Math.Max(count, file.Users.Count)];
        for (int i = 0; i < file.Users.Count; i++) users[i] = revalidate ? null : file.Users[i];
        var todo = Enumerable.Range(0, count).Where(i => users[i] is null).ToList();
        if (todo.Count == 0) return users.Take(count).Select(u => u!).ToList();

        Console.WriteLine($"setup: {(revalidate ? "re-validating/registering" : "registering")} {todo.Count} users (parallel {parallel}) into {path}");
        var sw = Stopwatch.StartNew();
        int done = 0, failed = 0;
        long lastSave = 0, lastPrint = 0;
        var saveLock = new Lock();
        await Parallel.ForEachAsync(todo, new ParallelOptions { MaxDegreeOfParallelism = parallel, CancellationToken = cts.Token }, async (i, token) =>
        {
            string name = $"{prefix}{i:D7}";
            for (int attempt = 0; attempt < 3; attempt++)
            {
                try
                {
                    var r = await api.RegisterOrLoginAsync(name, Password, token);
                    if (r is null) throw new InvalidOperationException($"user {name} exists with another password; use another --user-prefix");
                    users[i] = new UserEntry { Username = r.Username, Password = Password, UserId = r.UserId, DeviceId = r.DeviceId, Token = r.Token };
                    break;
                }
                catch (Exception e) when (e is HttpRequestException or ChatApiException && attempt < 2)
                {
                    Console.WriteLine($"  retry {name}: {e.Message}");
                    await Task.Delay(500 * (attempt + 1), token);
                }
            }
            if (users[i] is null) Interlocked.Increment(ref failed);
            int d = Interlocked.Increment(ref done);
            long now = sw.ElapsedMilliseconds;
            if (now - Interlocked.Read(ref lastPrint) >= 2000)
            {
                Interlocked.Exchange(ref lastPrint, now);
                Console.WriteLine($"  {d}/{todo.Count} users, {d / Math.Max(0.001, sw.Elapsed.TotalSeconds):F0}/s");
            }
            if (now - Interlocked.Read(ref lastSave) >= 10_000)
            {
                Interlocked.Exchange(ref lastSave, now);
                lock (saveLock) Save(path, file, users);
            }
        });
        Save(path, file, users);
        if (failed > 0) throw new InvalidOperationException($"{failed} users could not be registered");
        Console.WriteLine($"setup: {todo.Count} users in {sw.Elapsed.TotalSeconds:F1} s ({todo.Count / sw.Elapsed.TotalSeconds:F0}/s)");
        return users.Take(count).Select(u => u!).ToList();
    }

    private static UsersFile? Load(string path)
    {
        if (!File.Exists(path)) return null;
        using var s = File.OpenRead(path);
        return JsonSerializer.Deserialize(s, UsersFileJson.Default.UsersFile);
    }

    private static void Save(string path, UsersFile file, UserEntry?[] users)
    {
        // keep the list contiguous: new entries win, old ones fill gaps, stop at the first hole
        var list = new List<UserEntry>();
        for (int i = 0; i < users.Length; i++)
        {
            var u = users[i] ?? (i < file.Users.Count ? file.Users[i] : null);
            if (u is null) break;
            list.Add(u);
        }
        file.Users = list;
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        string tmp = path + ".tmp";
        File.WriteAllBytes(tmp, JsonSerializer.SerializeToUtf8Bytes(file, UsersFileJson.Default.UsersFile));
        File.Move(tmp, path, overwrite: true);
    }
}
