using System.Globalization;
using System.Net;

namespace Chat.LoadTest;

/// <summary>Minimal "--key value" / "--flag" command-line parser with typed, bounded getters.</summary>
public sealed class Options
{
    private readonly Dictionary<string, string> _values = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _used = new(StringComparer.OrdinalIgnoreCase);

    public string Command { get; }

    public Options(string[] args)
    {
        if (args.Length == 0) throw new UsageException("missing scenario");
        Command = args[0].ToLowerInvariant();
        for (int i = 1; i < args.Length; i++)
        {
            string a = args[i];
            if (!a.StartsWith("--", StringComparison.Ordinal)) throw new UsageException($"unexpected argument '{a}'");
            string key = a[2..];
            string value = "true";
            int eq = key.IndexOf('=', StringComparison.Ordinal);
            if (eq >= 0) { value = key[(eq + 1)..]; key = key[..eq]; }
            else if (i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal)) value = args[++i];
            _values[key] = value;
        }
    }

    public bool Has(string key) { _used.Add(key); return _values.ContainsKey(key); }

    public string Str(string key, string def) { _used.Add(key); return _values.TryGetValue(key, out var v) ? v : def; }

    public string? StrOrNull(string key) { _used.Add(key); return _values.TryGetValue(key, out var v) ? v : null; }

    public bool Flag(string key) { _used.Add(key); return _values.TryGetValue(key, out var v) && v is not ("false" or "0" or "no"); }

    public int Int(string key, int def, int min, int max)
    {
        _used.Add(key);
        if (!_values.TryGetValue(key, out var v)) return def;
        if (!int.TryParse(v.Replace("_", "", StringComparison.Ordinal), NumberStyles.Integer, CultureInfo.InvariantCulture, out int x)
            && !TryParseSuffixed(v, out x))
            throw new UsageException($"--{key}: '{v}' is not an integer");
        if (x < min || x > max) throw new UsageException($"--{key}: {x} is outside [{min}, {max}]");
        return x;
    }

    public double Dbl(string key, double def, double min, double max)
    {
        _used.Add(key);
        if (!_values.TryGetValue(key, out var v)) return def;
        if (!double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double x))
            throw new UsageException($"--{key}: '{v}' is not a number");
        if (x < min || x > max) throw new UsageException($"--{key}: {x} is outside [{min}, {max}]");
        return x;
    }

    public List<int> IntList(string key, int min, int max)
    {
        _used.Add(key);
        var list = new List<int>();
        if (!_values.TryGetValue(key, out var v)) return list;
        foreach (var part in v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part.Replace("_", "", StringComparison.Ordinal), NumberStyles.Integer, CultureInfo.InvariantCulture, out int x)
                && !TryParseSuffixed(part, out x))
                throw new UsageException($"--{key}: '{part}' is not an integer");
            if (x < min || x > max) throw new UsageException($"--{key}: {x} is outside [{min}, {max}]");
            list.Add(x);
        }
        if (list.Count > 64) throw new UsageException($"--{key}: at most 64 values");
        return list;
    }

    /// <summary>Accepts 10k / 2.5k / 1m.</summary>
    private static bool TryParseSuffixed(string v, out int x)
    {
        x = 0;
        if (v.Length < 2) return false;
        double mult = char.ToLowerInvariant(v[^1]) switch { 'k' => 1e3, 'm' => 1e6, _ => 0 };
        if (mult == 0 || !double.TryParse(v[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out double d)) return false;
        double r = d * mult;
        if (r > int.MaxValue || r < int.MinValue) return false;
        x = (int)Math.Round(r);
        return true;
    }

    /// <summary>Unknown options are errors (a typo must not silently run a different benchmark).</summary>
    public void EnsureAllUsed()
    {
        var unknown = _values.Keys.Where(k => !_used.Contains(k)).ToList();
        if (unknown.Count > 0) throw new UsageException("unknown option(s): " + string.Join(", ", unknown.Select(k => "--" + k)));
    }
}

public sealed class UsageException(string message) : Exception(message);

/// <summary>The tool only ever talks to this machine.</summary>
public static class Loopback
{
    /// <summary>Returns the target base URI with "localhost" resolved to 127.0.0.1; throws for anything not loopback.</summary>
    public static Uri Check(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
            throw new UsageException($"--url '{url}' is not an http(s) URL");
        string host = uri.Host.Trim('[', ']');
        IPAddress? ip;
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) ip = IPAddress.Loopback;
        else if (!IPAddress.TryParse(host, out ip)) throw new UsageException($"refusing target '{host}': only loopback addresses (127.0.0.0/8, ::1, localhost) are allowed");
        if (!IPAddress.IsLoopback(ip)) throw new UsageException($"refusing target '{host}': only loopback addresses (127.0.0.0/8, ::1, localhost) are allowed");
        var b = new UriBuilder(uri) { Host = ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "[::1]" : ip.ToString(), Path = "/", Query = "" };
        return b.Uri;
    }
}
