using System.Diagnostics;
using System.Globalization;

namespace Chat.LoadTest;

/// <summary>One reading of a process from /proc: CPU seconds (user+system), RSS, threads.</summary>
public readonly record struct ProcReading(double CpuSeconds, long RssBytes, int Threads, long Timestamp);

public static class ProcStats
{
    private static readonly double ClockTicks = 100.0; // USER_HZ is 100 on every Linux ABI .NET runs on

    public static ProcReading? Read(int pid)
    {
        if (pid <= 0) return null;
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            int close = stat.LastIndexOf(')');
            if (close < 0) return null;
            // fields after "pid (comm)": state is field 3; utime 14, stime 15, num_threads 20, rss 24 (1-based)
            string[] f = stat[(close + 2)..].Split(' ');
            double ut = double.Parse(f[14 - 3], CultureInfo.InvariantCulture);
            double st = double.Parse(f[15 - 3], CultureInfo.InvariantCulture);
            int threads = int.Parse(f[20 - 3], CultureInfo.InvariantCulture);
            long rss = ReadVmRss(pid);
            return new ProcReading((ut + st) / ClockTicks, rss, threads, Stopwatch.GetTimestamp());
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
        catch (FormatException) { return null; }
        catch (IndexOutOfRangeException) { return null; }
    }

    /// <summary>VmRSS from /proc/&lt;pid&gt;/status, in bytes (-1 when unreadable).</summary>
    public static long ReadVmRss(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (!line.StartsWith("VmRSS:", StringComparison.Ordinal)) continue;
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return long.Parse(parts[1], CultureInfo.InvariantCulture) * 1024;
        }
        return -1;
    }

    /// <summary>CPU percent (100 = one core) between two readings.</summary>
    public static double CpuPercent(ProcReading a, ProcReading b)
    {
        double wall = (b.Timestamp - a.Timestamp) / (double)Stopwatch.Frequency;
        return wall <= 0 ? 0 : (b.CpuSeconds - a.CpuSeconds) / wall * 100.0;
    }

    /// <summary>Finds the process listening on a local TCP port via /proc/net/tcp{,6} and /proc/*/fd (bounded scan).</summary>
    public static int FindListener(int port)
    {
        try
        {
            var inodes = new HashSet<string>(StringComparer.Ordinal);
            foreach (var file in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
            {
                if (!File.Exists(file)) continue;
                foreach (var line in File.ReadLines(file).Skip(1).Take(1_000_000))
                {
                    var p = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    if (p.Length < 10 || p[3] != "0A") continue; // LISTEN
                    int colon = p[1].LastIndexOf(':');
                    if (colon < 0) continue;
                    if (int.Parse(p[1][(colon + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture) == port) inodes.Add(p[9]);
                }
            }
            if (inodes.Count == 0) return 0;
            int self = Environment.ProcessId;
            foreach (var dir in Directory.EnumerateDirectories("/proc").Take(100_000))
            {
                if (!int.TryParse(Path.GetFileName(dir), out int pid) || pid == self) continue;
                try
                {
                    foreach (var fd in Directory.EnumerateFiles(Path.Combine(dir, "fd")).Take(2_000_000))
                    {
                        var target = new FileInfo(fd).LinkTarget;
                        if (target is not null && target.StartsWith("socket:[", StringComparison.Ordinal) && inodes.Contains(target[8..^1])) return pid;
                    }
                }
                catch (IOException) { }
                catch (UnauthorizedAccessException) { }
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return 0;
    }

    /// <summary>(busy, total) jiffies of the whole machine from /proc/stat.</summary>
    public static (long Busy, long Total) SystemJiffies()
    {
        try
        {
            string first = File.ReadLines("/proc/stat").First();
            var p = first.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            long total = 0, idle = 0;
            for (int i = 1; i < p.Length && i <= 8; i++)
            {
                long v = long.Parse(p[i], CultureInfo.InvariantCulture);
                total += v;
                if (i is 4 or 5) idle += v; // idle, iowait
            }
            return (total - idle, total);
        }
        catch (IOException) { return (0, 0); }
    }

    public static string CommandLine(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim(); }
        catch (IOException) { return ""; }
    }
}

/// <summary>Samples the server and the tool once a second; keeps the series for the JSON result.</summary>
public sealed class Sampler
{
    public int ServerPid { get; }
    private readonly int _selfPid = Environment.ProcessId;
    private ProcReading? _lastServer, _lastSelf;
    private (long Busy, long Total) _lastSys = ProcStats.SystemJiffies();
    private readonly Lock _lock = new();
    public List<Sample> Series { get; } = [];
    public Sample Latest { get; private set; } = new();

    public Sampler(int serverPid)
    {
        ServerPid = serverPid;
        _lastServer = ProcStats.Read(serverPid);
        _lastSelf = ProcStats.Read(_selfPid);
    }

    public Sample Tick(double elapsedSeconds, string phase)
    {
        var s = ProcStats.Read(ServerPid);
        var me = ProcStats.Read(_selfPid);
        var sys = ProcStats.SystemJiffies();
        double sysPct = sys.Total > _lastSys.Total ? (sys.Busy - _lastSys.Busy) * 100.0 * Environment.ProcessorCount / (sys.Total - _lastSys.Total) : -1;
        _lastSys = sys;
        var sample = new Sample
        {
            MachineCpuPct = Math.Round(sysPct, 1),
            T = Math.Round(elapsedSeconds, 2),
            Phase = phase,
            ServerCpuPct = s is { } a && _lastServer is { } b ? Math.Round(ProcStats.CpuPercent(b, a), 1) : -1,
            ServerRssMb = s is { } c ? Math.Round(c.RssBytes / 1048576.0, 1) : -1,
            ServerThreads = s?.Threads ?? -1,
            ToolCpuPct = me is { } d && _lastSelf is { } e ? Math.Round(ProcStats.CpuPercent(e, d), 1) : -1,
            ToolRssMb = me is { } g ? Math.Round(g.RssBytes / 1048576.0, 1) : -1,
        };
        _lastServer = s; _lastSelf = me;
        lock (_lock) { Series.Add(sample); Latest = sample; }
        return sample;
    }

    /// <summary>Averages/maxima over the samples whose phase matches.</summary>
    /// <summary>Average CPU of the whole machine (100 = one core) over a phase: shows whether other processes competed.</summary>
    public double MachineCpu(string phase)
    {
        lock (_lock)
        {
            var xs = Series.Where(x => x.Phase == phase && x.MachineCpuPct >= 0).ToList();
            return xs.Count == 0 ? -1 : Math.Round(xs.Average(x => x.MachineCpuPct), 1);
        }
    }

    private readonly List<(double T, string Phase, Dictionary<string, double> Values)> _scrapes = [];

    /// <summary>Records one /metrics scrape taken at time t while the run was in the given phase.</summary>
    public void AddScrape(double t, string phase, Dictionary<string, double> values)
    {
        lock (_lock) _scrapes.Add((t, phase, values));
    }

    /// <summary>Server-side counters over a phase, from the /metrics scrapes (last of the phase − last before it).</summary>
    public Dictionary<string, double>? ServerDelta(string phase)
    {
        lock (_lock)
        {
            int first = _scrapes.FindIndex(x => x.Phase == phase);
            int last = _scrapes.FindLastIndex(x => x.Phase == phase);
            if (first <= 0 || last < 0) return null;
            var (t0, _, before) = _scrapes[first - 1];
            var (t1, _, after) = _scrapes[last];
            double secs = t1 - t0;
            if (secs <= 0) return null;
            var d = new Dictionary<string, double>(StringComparer.Ordinal) { ["seconds"] = Math.Round(secs, 1) };
            static double G(Dictionary<string, double> m, string k) => m.GetValueOrDefault(k);
            double commits = G(after, "chat_commit_batch_size_count") - G(before, "chat_commit_batch_size_count");
            double msgs = G(after, "chat_commit_batch_size_sum") - G(before, "chat_commit_batch_size_sum");
            double commitMs = G(after, "chat_commit_duration_milliseconds_sum") - G(before, "chat_commit_duration_milliseconds_sum");
            if (commits > 0)
            {
                d["commits_per_s"] = Math.Round(commits / secs, 1);
                d["avg_batch"] = Math.Round(msgs / commits, 1);
                d["avg_commit_ms"] = Math.Round(commitMs / commits, 2);
                d["committer_db_busy_pct"] = Math.Round(commitMs / (secs * 1000) * 100, 1);
            }
            foreach (var k in after.Keys.Where(k => k.EndsWith("_total", StringComparison.Ordinal)))
            {
                double delta = G(after, k) - G(before, k);
                if (delta != 0) d[k.Replace("chat_", "", StringComparison.Ordinal) + "_per_s"] = Math.Round(delta / secs, 1);
            }
            return d;
        }
    }

    public (double ServerCpu, double ToolCpu, double ServerRssMaxMb, double ToolRssMaxMb) Summary(string phase)
    {
        lock (_lock)
        {
            var xs = Series.Where(x => x.Phase == phase).ToList();
            if (xs.Count == 0) return (-1, -1, -1, -1);
            return (Math.Round(xs.Where(x => x.ServerCpuPct >= 0).Select(x => x.ServerCpuPct).DefaultIfEmpty(-1).Average(), 1),
                    Math.Round(xs.Where(x => x.ToolCpuPct >= 0).Select(x => x.ToolCpuPct).DefaultIfEmpty(-1).Average(), 1),
                    xs.Max(x => x.ServerRssMb), xs.Max(x => x.ToolRssMb));
        }
    }
}

public sealed class Sample
{
    public double T { get; set; }
    public string Phase { get; set; } = "";
    public double ServerCpuPct { get; set; }
    public double MachineCpuPct { get; set; }
    public double ServerRssMb { get; set; }
    public int ServerThreads { get; set; }
    public double ToolCpuPct { get; set; }
    public double ToolRssMb { get; set; }
    public double SentPerSec { get; set; }
    public double AckedPerSec { get; set; }
    public double DeliveredPerSec { get; set; }
    public double P50Ms { get; set; }
    public double P99Ms { get; set; }
    public int OpenSockets { get; set; }
}
