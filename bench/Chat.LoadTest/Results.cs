using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Chat.LoadTest;

public sealed class Machine
{
    public int Nproc { get; set; } = Environment.ProcessorCount;
    public string CpuModel { get; set; } = "";
    public long MemTotalMb { get; set; }
    public string Kernel { get; set; } = "";
    public string Dotnet { get; set; } = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription;
    public long FdSoftLimit { get; set; }
    public long FdHardLimit { get; set; }

    public static Machine Read((long Soft, long Hard) fd)
    {
        var m = new Machine { FdSoftLimit = fd.Soft, FdHardLimit = fd.Hard };
        try
        {
            m.CpuModel = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "";
            var mem = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
            m.MemTotalMb = long.Parse(mem.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
            m.Kernel = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        }
        catch (IOException) { }
        return m;
    }

    public override string ToString() => $"{Nproc} vCPU ({CpuModel}), {MemTotalMb} MiB RAM, Linux {Kernel}, {Dotnet}, fd limit {FdSoftLimit}/{FdHardLimit}";
}

public sealed class StepResult
{
    public string Name { get; set; } = "";
    public bool Warmup { get; set; }
    public double TargetRate { get; set; }
    public double Seconds { get; set; }
    public double OfferedRate { get; set; }
    public double AckedRate { get; set; }
    public double DeliveredRate { get; set; }
    public long Sent { get; set; }
    public long SendFailed { get; set; }
    public long Acked { get; set; }
    public long Errors { get; set; }
    public long ExpectedDeliveries { get; set; }
    public long Delivered { get; set; }
    public long Lost { get; set; }
    public long Duplicates { get; set; }
    public LatencySummary E2e { get; set; } = new();
    public LatencySummary Ack { get; set; } = new();
    public LatencySummary? AllMembers { get; set; }
    public double ServerCpuPct { get; set; }
    public double ToolCpuPct { get; set; }
    public double MachineCpuPct { get; set; }
    public double ServerRssMaxMb { get; set; }
    public Dictionary<string, double>? ServerMetrics { get; set; }
    /// <summary>rich: latency per operation kind and receiver ("edit ack", "react delivery" …).</summary>
    public Dictionary<string, LatencySummary>? ByKind { get; set; }
}

public sealed class Result
{
    public string Scenario { get; set; } = "";
    public string RunId { get; set; } = "";
    public string StartedAt { get; set; } = "";
    public string Command { get; set; } = "";
    public string Target { get; set; } = "";
    public Machine Machine { get; set; } = new();
    public int ServerPid { get; set; }
    public string ServerCommand { get; set; } = "";
    public Dictionary<string, string> Settings { get; set; } = [];
    public Dictionary<string, double> Figures { get; set; } = [];
    public List<StepResult> Steps { get; set; } = [];
    public LatencySummary? ConnectLatency { get; set; }
    public LatencySummary? HeartbeatRtt { get; set; }
    public LatencySummary? Extra { get; set; }
    public string ExtraName { get; set; } = "";
    public Dictionary<string, long> ErrorCodes { get; set; } = [];
    public Dictionary<string, long> CloseCodes { get; set; } = [];
    public Dictionary<string, long> OtherFrames { get; set; } = [];
    public List<string> Notes { get; set; } = [];
    public List<Sample> Series { get; set; } = [];
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Result))]
public sealed partial class ResultJson : JsonSerializerContext;

public static class Report
{
    public static string Write(Result r, string outDir)
    {
        Directory.CreateDirectory(outDir);
        string stem = Path.Combine(outDir, $"{r.Scenario}-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{r.RunId}");
        File.WriteAllBytes(stem + ".json", JsonSerializer.SerializeToUtf8Bytes(r, ResultJson.Default.Result));
        string md = Markdown(r);
        File.WriteAllText(stem + ".md", md);
        var measured = r.Steps.Where(s => !s.Warmup).ToList();
        if (measured.Count >= 2) File.WriteAllText(stem + ".svg", Svg.LatencyVsLoad(r, measured));
        return stem;
    }

    private static string F(double v) => v >= 100 ? v.ToString("F0", CultureInfo.InvariantCulture)
        : v >= 10 ? v.ToString("F1", CultureInfo.InvariantCulture) : v.ToString("F2", CultureInfo.InvariantCulture);

    private static string N(double v) => v.ToString("N0", CultureInfo.InvariantCulture);

    public static string Markdown(Result r)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"**{r.Scenario}** run `{r.RunId}` at {r.StartedAt} against {r.Target}\n\n");
        sb.Append(CultureInfo.InvariantCulture, $"Machine: {r.Machine}\n\n");
        sb.Append("CPU columns: 100 % = one core; the machine has ").Append(r.Machine.Nproc).Append(" cores shared by server and tool (machine CPU − server − tool = anything else running).\n\n");
        if (r.Settings.Count > 0) sb.Append("Settings: ").Append(string.Join(", ", r.Settings.Select(kv => $"{kv.Key}={kv.Value}"))).Append("\n\n");
        if (r.Steps.Count > 0)
        {
            bool group = r.Steps.Any(s => s.AllMembers is not null);
            sb.Append("| step | target msg/s | offered msg/s | acked msg/s | deliveries/s | e2e p50 ms | p90 | p99 | p99.9 | max | ack p50 ms | ack p99 | ");
            if (group) sb.Append("all-members p50 ms | all-members p99 | ");
            sb.Append("lost | dup | errors | server CPU % | tool CPU % | machine CPU % | server RSS MiB |\n");
            sb.Append("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
            if (group) sb.Append("--:|--:|");
            sb.Append("--:|--:|--:|--:|--:|--:|--:|\n");
            foreach (var s in r.Steps)
            {
                sb.Append(CultureInfo.InvariantCulture, $"| {s.Name}{(s.Warmup ? " (warm-up)" : "")} | {N(s.TargetRate)} | {N(s.OfferedRate)} | {N(s.AckedRate)} | {N(s.DeliveredRate)} | ");
                sb.Append(CultureInfo.InvariantCulture, $"{F(s.E2e.P50Ms)} | {F(s.E2e.P90Ms)} | {F(s.E2e.P99Ms)} | {F(s.E2e.P999Ms)} | {F(s.E2e.MaxMs)} | {F(s.Ack.P50Ms)} | {F(s.Ack.P99Ms)} | ");
                if (group) sb.Append(CultureInfo.InvariantCulture, $"{F(s.AllMembers?.P50Ms ?? 0)} | {F(s.AllMembers?.P99Ms ?? 0)} | ");
                sb.Append(CultureInfo.InvariantCulture, $"{N(s.Lost)} | {N(s.Duplicates)} | {N(s.Errors + s.SendFailed)} | {F(s.ServerCpuPct)} | {F(s.ToolCpuPct)} | {F(s.MachineCpuPct)} | {F(s.ServerRssMaxMb)} |\n");
            }
            sb.Append('\n');
            foreach (var s in r.Steps.Where(s => s.ByKind is { Count: > 0 }))
                foreach (var (kind, l) in s.ByKind!)
                    sb.Append(CultureInfo.InvariantCulture, $"{s.Name} {kind}: {N(l.Count / Math.Max(0.001, s.Seconds))}/s, p50 {F(l.P50Ms)} ms, p95 {F(l.P95Ms)}, p99 {F(l.P99Ms)}, max {F(l.MaxMs)} ms\n\n");
            foreach (var s in r.Steps.Where(s => s.ServerMetrics is { Count: > 0 }))
                sb.Append(CultureInfo.InvariantCulture, $"Server /metrics during {s.Name}: ").Append(string.Join(", ", s.ServerMetrics!.Select(kv => $"{kv.Key} {F(kv.Value)}"))).Append("\n\n");
        }
        if (r.Figures.Count > 0)
        {
            sb.Append("| figure | value |\n|---|--:|\n");
            foreach (var kv in r.Figures) sb.Append(CultureInfo.InvariantCulture, $"| {kv.Key} | {F(kv.Value)} |\n");
            sb.Append('\n');
        }
        void Lat(string name, LatencySummary? l)
        {
            if (l is null || l.Count == 0) return;
            sb.Append(CultureInfo.InvariantCulture, $"{name}: n={N(l.Count)} p50 {F(l.P50Ms)} ms, p90 {F(l.P90Ms)}, p99 {F(l.P99Ms)}, p99.9 {F(l.P999Ms)}, max {F(l.MaxMs)} ms\n\n");
        }
        Lat("Connect (upgrade → ready)", r.ConnectLatency);
        Lat("Heartbeat round trip", r.HeartbeatRtt);
        Lat(r.ExtraName, r.Extra);
        if (r.ErrorCodes.Count > 0) sb.Append("Error frames: ").Append(string.Join(", ", r.ErrorCodes.Select(kv => $"{kv.Key}={kv.Value}"))).Append("\n\n");
        if (r.CloseCodes.Count > 0) sb.Append("Closes/disconnects: ").Append(string.Join(", ", r.CloseCodes.Select(kv => $"{kv.Key}={kv.Value}"))).Append("\n\n");
        if (r.OtherFrames.Count > 0) sb.Append("Other frames received: ").Append(string.Join(", ", r.OtherFrames.Select(kv => $"{kv.Key}={kv.Value}"))).Append("\n\n");
        foreach (var n in r.Notes) sb.Append("- ").Append(n).Append('\n');
        return sb.ToString();
    }
}

/// <summary>Hand-written SVG: end-to-end latency percentiles (log scale) against offered load.</summary>
public static class Svg
{
    public static string LatencyVsLoad(Result r, List<StepResult> steps)
    {
        const int W = 760, H = 440, L = 70, R = 150, T = 40, B = 60;
        double pw = W - L - R, ph = H - T - B;
        double xMax = steps.Max(s => Math.Max(s.TargetRate, s.OfferedRate)) * 1.05;
        var series = new (string Name, string Color, Func<StepResult, double> Get)[]
        {
            ("p50", "#2b8a3e", s => s.E2e.P50Ms),
            ("p90", "#1971c2", s => s.E2e.P90Ms),
            ("p99", "#e8590c", s => s.E2e.P99Ms),
            ("p99.9", "#c2255c", s => s.E2e.P999Ms),
            ("max", "#868e96", s => s.E2e.MaxMs),
        };
        double yMin = 0.1, yMax = Math.Max(200, steps.Max(s => s.E2e.MaxMs) * 1.5);
        double lo = Math.Log10(yMin), hi = Math.Log10(yMax);
        double X(double v) => L + v / xMax * pw;
        double Y(double ms) => T + ph - (Math.Log10(Math.Max(yMin, ms)) - lo) / (hi - lo) * ph;
        var ci = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(ci, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        sb.Append(ci, $"<rect width=\"{W}\" height=\"{H}\" fill=\"white\"/>\n");
        sb.Append(ci, $"<text x=\"{W / 2}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{Esc(r.Scenario)}: end-to-end latency vs offered load ({Esc(r.Settings.GetValueOrDefault("users", ""))} users)</text>\n");
        // y grid (decades)
        for (int e = (int)Math.Floor(lo); e <= (int)Math.Ceiling(hi); e++)
        {
            foreach (int m in new[] { 1, 2, 5 })
            {
                double v = m * Math.Pow(10, e);
                if (v < yMin || v > yMax) continue;
                double y = Y(v);
                sb.Append(ci, $"<line x1=\"{L}\" y1=\"{y:F1}\" x2=\"{L + pw}\" y2=\"{y:F1}\" stroke=\"{(m == 1 ? "#ced4da" : "#f1f3f5")}\"/>\n");
                sb.Append(ci, $"<text x=\"{L - 6}\" y=\"{y + 4:F1}\" text-anchor=\"end\">{v.ToString("0.###", ci)}</text>\n");
            }
        }
        // x ticks
        double step = NiceStep(xMax / 6);
        for (double v = 0; v <= xMax; v += step)
        {
            double x = X(v);
            sb.Append(ci, $"<line x1=\"{x:F1}\" y1=\"{T}\" x2=\"{x:F1}\" y2=\"{T + ph}\" stroke=\"#f1f3f5\"/>\n");
            sb.Append(ci, $"<text x=\"{x:F1}\" y=\"{T + ph + 18}\" text-anchor=\"middle\">{v.ToString("N0", ci)}</text>\n");
        }
        sb.Append(ci, $"<rect x=\"{L}\" y=\"{T}\" width=\"{pw}\" height=\"{ph}\" fill=\"none\" stroke=\"#495057\"/>\n");
        // 100 ms target line
        if (100 <= yMax)
        {
            sb.Append(ci, $"<line x1=\"{L}\" y1=\"{Y(100):F1}\" x2=\"{L + pw}\" y2=\"{Y(100):F1}\" stroke=\"#fa5252\" stroke-dasharray=\"6 4\"/>\n");
            sb.Append(ci, $"<text x=\"{L + pw - 4}\" y=\"{Y(100) - 5:F1}\" text-anchor=\"end\" fill=\"#fa5252\">p99 target 100 ms</text>\n");
        }
        sb.Append(ci, $"<text x=\"{L + pw / 2}\" y=\"{H - 18}\" text-anchor=\"middle\">offered load (messages/s, measured)</text>\n");
        sb.Append(ci, $"<text transform=\"translate(18 {T + ph / 2}) rotate(-90)\" text-anchor=\"middle\">latency send → receive (ms, log)</text>\n");
        int li = 0;
        foreach (var (name, color, get) in series)
        {
            var pts = string.Join(" ", steps.Select(s => $"{X(s.OfferedRate).ToString("F1", ci)},{Y(get(s)).ToString("F1", ci)}"));
            sb.Append(ci, $"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{pts}\"/>\n");
            foreach (var s in steps)
                sb.Append(ci, $"<circle cx=\"{X(s.OfferedRate):F1}\" cy=\"{Y(get(s)):F1}\" r=\"3\" fill=\"{color}\"><title>{name} {get(s).ToString("0.##", ci)} ms at {s.OfferedRate.ToString("N0", ci)} msg/s</title></circle>\n");
            double ly = T + 10 + li * 20;
            sb.Append(ci, $"<line x1=\"{L + pw + 15}\" y1=\"{ly}\" x2=\"{L + pw + 40}\" y2=\"{ly}\" stroke=\"{color}\" stroke-width=\"2\"/>\n");
            sb.Append(ci, $"<text x=\"{L + pw + 46}\" y=\"{ly + 4}\">{name}</text>\n");
            li++;
        }
        // loss markers
        foreach (var s in steps.Where(s => s.Lost > 0))
            sb.Append(ci, $"<text x=\"{X(s.OfferedRate):F1}\" y=\"{T + 14}\" text-anchor=\"middle\" fill=\"#fa5252\">loss</text>\n");
        sb.Append(ci, $"<text x=\"{L + pw + 15}\" y=\"{T + 130}\" font-size=\"10\" fill=\"#495057\">run {Esc(r.RunId)}</text>\n");
        sb.Append(ci, $"<text x=\"{L + pw + 15}\" y=\"{T + 145}\" font-size=\"10\" fill=\"#495057\">{r.Machine.Nproc} vCPU, shared</text>\n");
        sb.Append(ci, $"<text x=\"{L + pw + 15}\" y=\"{T + 160}\" font-size=\"10\" fill=\"#495057\">with the load tool</text>\n");
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    private static double NiceStep(double raw)
    {
        if (raw <= 0) return 1;
        double mag = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double n = raw / mag;
        return (n < 1.5 ? 1 : n < 3 ? 2 : n < 7 ? 5 : 10) * mag;
    }

    private static string Esc(string s) => s.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);
}
