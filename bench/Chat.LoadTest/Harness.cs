using System.Diagnostics;
using System.Globalization;

namespace Chat.LoadTest;

/// <summary>What every scenario shares: target check, fd limit, users, sockets, heartbeats, sampling, progress, results.</summary>
public sealed class Harness : IDisposable
{
    public Options Opt { get; }
    public Uri Target { get; }
    public Api Api { get; }
    public RunStats Stats { get; } = new();
    public Sampler Sampler { get; }
    public Machine Machine { get; }
    public Result Result { get; } = new();
    public string OutDir { get; }
    public int ContentBytes { get; }
    public int ConnectParallel { get; }
    public bool ScrapeMetrics { get; }
    public int SourceIps { get; private set; }
    public Connector? Connector { get; private set; }
    public string Phase { get; set; } = "setup";
    public List<Conn> Conns { get; } = [];
    public CancellationToken Ct { get; }

    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly string _usersFile;
    private readonly string _prefix;
    private readonly int _registerParallel;
    private readonly int _sourceIpsOpt;
    private readonly TimeSpan _setupTimeout;
    private readonly int _userOffset;

    public Harness(Options opt, CancellationToken ct)
    {
        Opt = opt;
        Ct = ct;
        Target = Loopback.Check(opt.Str("url", "http://127.0.0.1:8080"));
        var fd = Native.RaiseFileLimit(1_048_576);
        Machine = Machine.Read(fd);
        string defOut = Directory.Exists("bench/Chat.LoadTest") ? "bench/Chat.LoadTest/results" : "results";
        OutDir = opt.Str("out", defOut);
        _prefix = opt.Str("user-prefix", "lt");
        if (!System.Text.RegularExpressions.Regex.IsMatch(_prefix, "^[a-z][a-z0-9.-]{0,20}$"))
            throw new UsageException("--user-prefix: 1-21 chars of a-z, 0-9, '.', '-', starting with a letter");
        _usersFile = opt.Str("users-file", Path.Combine(OutDir, $"{_prefix}-{Target.Port}.users.json"));
        _registerParallel = opt.Int("register-parallel", Math.Max(4, Environment.ProcessorCount * 4), 1, 1024);
        _setupTimeout = TimeSpan.FromSeconds(opt.Int("setup-timeout", 3600, 10, 86_400));
        _userOffset = opt.Int("user-offset", 0, 0, 10_000_000);
        ContentBytes = opt.Int("size", 100, 1, 60_000);
        ConnectParallel = opt.Int("connect-parallel", 200, 1, 100_000);
        _sourceIpsOpt = opt.Int("source-ips", 0, 0, 250);
        ScrapeMetrics = !opt.Flag("no-metrics");
        int pid = opt.Int("server-pid", 0, 0, int.MaxValue);
        if (pid == 0) pid = ProcStats.FindListener(Target.Port);
        Sampler = new Sampler(pid);
        Api = new Api(Target);
        Result.RunId = Stats.RunId;
        Result.StartedAt = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);
        Result.Target = Target.ToString();
        Result.Machine = Machine;
        Result.ServerPid = pid;
        Result.ServerCommand = ProcStats.CommandLine(pid);
        Console.WriteLine($"machine: {Machine}");
        Console.WriteLine(pid > 0 ? $"server: pid {pid}: {Result.ServerCommand}" : "server: pid unknown (pass --server-pid to sample its CPU and RSS)");
    }

    public double Elapsed => _clock.Elapsed.TotalSeconds;

    public void Dispose()
    {
        Api.Dispose();
        Connector?.Dispose();
    }

    public async Task WaitHealthyAsync()
    {
        bool ok = false;
        for (int i = 0; i < 60 && !ok; i++)
        {
            ok = await Api.HealthyAsync(Ct);
            if (!ok) await Task.Delay(500, Ct);
        }
        if (!ok) throw new InvalidOperationException($"{Target}healthz did not answer 200 within 30 s");
        // How busy is the machine before we start? Other processes on the 2 shared cores skew every figure.
        var a = ProcStats.SystemJiffies();
        await Task.Delay(2000, Ct);
        var b = ProcStats.SystemJiffies();
        double busy = b.Total > a.Total ? Math.Round((b.Busy - a.Busy) * 100.0 * Environment.ProcessorCount / (b.Total - a.Total), 1) : -1;
        Result.Figures["machine_cpu_pct_before_run"] = busy;
        double load = double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);
        Result.Figures["load_average_1m_before_run"] = load;
        Console.WriteLine($"machine before the run: {busy:F0} % CPU busy (100 = one core), load average {load}");
        if (busy > 25) Result.Notes.Add($"the machine was already {busy:F0} % busy (load average {load}) before the run started: other processes competed for the 2 cores");
    }

    public async Task<List<UserEntry>> UsersAsync(int count)
    {
        var all = await UserSetup.EnsureAsync(Api, _usersFile, _prefix, count + _userOffset, _registerParallel, _setupTimeout, Ct);
        return all.Skip(_userOffset).Take(count).ToList();
    }

    /// <summary>Opens sockets with bounded parallelism; every socket waits for "ready". Returns the failures.</summary>
    public async Task<int> ConnectAllAsync(IReadOnlyList<Conn> conns, int parallel, string label, bool sample = true)
    {
        if (Connector is null)
        {
            int need = Conns.Count + conns.Count;
            SourceIps = _sourceIpsOpt > 0 ? _sourceIpsOpt : Math.Clamp((need + 19_999) / 20_000, 1, 250);
            Connector = new Connector(Target, SourceIps);
            if (Machine.FdSoftLimit > 0 && need + 200 > Machine.FdSoftLimit)
                Console.WriteLine($"warning: {need} sockets but this process may open only {Machine.FdSoftLimit} files (hard limit {Machine.FdHardLimit}); " +
                                  "raise it with `ulimit -n` (as a user with CAP_SYS_RESOURCE) or split the run over processes with --user-offset");
        }
        var sw = Stopwatch.StartNew();
        int done = 0, failed = 0;
        var reasons = new System.Collections.Concurrent.ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        using var progressCts = new CancellationTokenSource();
        var progress = Task.Run(async () =>
        {
            while (!progressCts.IsCancellationRequested)
            {
                try { await Task.Delay(1000, progressCts.Token); } catch (OperationCanceledException) { break; }
                var s = sample ? Sampler.Tick(Elapsed, Phase) : null;
                Console.WriteLine($"  [{label}] {Volatile.Read(ref done)}/{conns.Count} sockets, {Volatile.Read(ref failed)} failed, " +
                                  $"{done / Math.Max(0.001, sw.Elapsed.TotalSeconds):F0}/s" +
                                  (s is null ? "" : $" | server {s.ServerCpuPct:F0}% CPU {s.ServerRssMb:F0} MiB | tool {s.ToolCpuPct:F0}%"));
            }
        });
        await Parallel.ForEachAsync(conns, new ParallelOptions { MaxDegreeOfParallelism = parallel, CancellationToken = Ct }, async (c, ct) =>
        {
            string? r = await c.ConnectAsync(Connector, TimeSpan.FromSeconds(60), ct);
            if (r is not null)
            {
                if (Interlocked.Increment(ref failed) <= 5) Console.WriteLine($"  connect #{c.Index} ({c.User.Username}) failed: {r}");
                reasons.AddOrUpdate(Simplify(r), 1, (_, v) => v + 1);
            }
            Interlocked.Increment(ref done);
        });
        await progressCts.CancelAsync();
        await progress;
        Console.WriteLine($"  [{label}] {conns.Count - failed}/{conns.Count} sockets ready in {sw.Elapsed.TotalSeconds:F1} s ({conns.Count / Math.Max(0.001, sw.Elapsed.TotalSeconds):F0}/s)" +
                          (failed > 0 ? " failures: " + string.Join(", ", reasons.Select(kv => $"{kv.Key}×{kv.Value}")) : ""));
        return failed;
    }

    private static string Simplify(string r) => r.Length > 60 ? r[..60] : r;

    public static async Task CloseAllAsync(IReadOnlyList<Conn> conns, int parallel)
    {
        await Parallel.ForEachAsync(conns, new ParallelOptions { MaxDegreeOfParallelism = parallel }, async (c, _) => await c.CloseAsync(TimeSpan.FromSeconds(5)));
    }

    /// <summary>Sends each open socket a heartbeat once per interval (spread evenly), until cancelled.</summary>
    public async Task HeartbeatLoopAsync(IReadOnlyList<Conn> conns, CancellationToken ct)
    {
        const int tickMs = 250;
        long tick = 0;
        while (!ct.IsCancellationRequested)
        {
            try { await Task.Delay(tickMs, ct); } catch (OperationCanceledException) { return; }
            int interval = conns.Count > 0 ? conns[0].HeartbeatIntervalMs : 30_000;
            int slices = Math.Max(1, interval / tickMs);
            int slice = (int)(tick++ % slices);
            for (int i = slice; i < conns.Count; i += slices)
            {
                var c = conns[i];
                if (!c.IsOpen) continue;
                var vt = c.HeartbeatAsync();
                if (!vt.IsCompleted) _ = vt.AsTask();
            }
        }
    }

    /// <summary>Scrapes the server's /metrics once a second (independent of the progress loop, so a slow scrape delays nothing).</summary>
    public async Task ScrapeLoopAsync(CancellationToken ct)
    {
        if (!ScrapeMetrics) return;
        for (int i = 0; i < 1_000_000 && !ct.IsCancellationRequested; i++)
        {
            string phase = Phase;
            double t = Elapsed;
            Dictionary<string, double>? m;
            try { m = await Api.ScrapeAsync(ct); }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; } // stopped mid-scrape
            if (m is null && i == 0) return; // no /metrics endpoint
            if (m is not null) Sampler.AddScrape(t, phase, m);
            try { await Task.Delay(1000, ct); } catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>Waits until <paramref name="quiet"/> seconds pass with no new frame (stale backlog of earlier runs drained), at most <paramref name="max"/>.</summary>
    public async Task QuiesceAsync(double quiet, double max)
    {
        var sw = Stopwatch.StartNew();
        long last = Interlocked.Read(ref Stats.Received);
        var lastChange = Stopwatch.StartNew();
        while (sw.Elapsed.TotalSeconds < max)
        {
            await Task.Delay(200, Ct);
            long now = Interlocked.Read(ref Stats.Received);
            if (now != last) { last = now; lastChange.Restart(); }
            else if (lastChange.Elapsed.TotalSeconds >= quiet) break;
        }
        if (Stats.StaleDelivered > 0) Console.WriteLine($"  drained {Stats.StaleDelivered} messages left unacked by earlier runs");
    }

    public int OpenCount(IReadOnlyList<Conn> conns)
    {
        int n = 0;
        foreach (var c in conns) if (c.IsOpen) n++;
        return n;
    }

    public void Finish(string scenario)
    {
        Result.Scenario = scenario;
        Result.Command = "chat-loadtest " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1));
        Result.ErrorCodes = new(Stats.ErrorCodes);
        Result.CloseCodes = new(Stats.CloseCodes);
        Result.OtherFrames = new(Stats.FrameTypes);
        if (Stats.ConnectLatency.TotalCount > 0) Result.ConnectLatency = Hist.Summary(Stats.ConnectLatency);
        if (Stats.HeartbeatRtt.TotalCount > 0) Result.HeartbeatRtt = Hist.Summary(Stats.HeartbeatRtt);
        Result.Series = Sampler.Series;
        Result.Settings["source_ips"] = SourceIps.ToString(CultureInfo.InvariantCulture);
        Result.Settings["content_bytes"] = ContentBytes.ToString(CultureInfo.InvariantCulture);
        if (Stats.Disconnects > 0) Result.Notes.Add($"{Stats.Disconnects} unexpected disconnects, {Stats.Reconnects} reconnects");
        if (Stats.ConnectFailures > 0) Result.Notes.Add($"{Stats.ConnectFailures} connection attempts failed");
        if (Stats.EchoToSender > 0) Result.Notes.Add($"{Stats.EchoToSender} new_message frames were pushed back to the very device that sent them");
        if (Stats.StaleDelivered > 0) Result.Notes.Add($"{Stats.StaleDelivered} messages from earlier runs were delivered (acked, not counted)");
        string stem = Report.Write(Result, OutDir);
        Console.WriteLine();
        Console.WriteLine(Report.Markdown(Result));
        Console.WriteLine($"results: {stem}.json, {stem}.md{(File.Exists(stem + ".svg") ? $", {stem}.svg" : "")}");
    }
}
