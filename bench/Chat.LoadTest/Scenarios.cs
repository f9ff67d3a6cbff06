using System.Diagnostics;
using System.Globalization;
using Chat.Protocol;

namespace Chat.LoadTest;

public static class Scenarios
{
    private static string Inv(double v) => v.ToString(CultureInfo.InvariantCulture);

    public static string DirectChatId(string a, string b) => string.CompareOrdinal(a, b) <= 0 ? a + "_" + b : b + "_" + a;

    // ---------------------------------------------------------------- direct

    public static async Task DirectAsync(Harness h)
    {
        var o = h.Opt;
        int users = o.Int("users", 10_000, 2, 1_000_000);
        if (users % 2 != 0) users++;
        bool oneWay = o.Flag("one-way");
        var plan = Plan(h, defaultRate: 2000);
        o.EnsureAllUsed();
        await h.WaitHealthyAsync();
        var list = await h.UsersAsync(users);
        var sink = new MessagingSink(h.Stats);
        var conns = list.Select((u, i) => new Conn(i, u, h.Stats, sink) { MaxReconnects = 3 }).ToList();
        var senders = new List<Sender>();
        var memberships = new List<(Conn, string)>();
        for (int i = 0; i + 1 < conns.Count; i += 2)
        {
            string chat = DirectChatId(conns[i].User.UserId, conns[i + 1].User.UserId);
            senders.Add(new Sender(conns[i], chat, 1));
            if (!oneWay) senders.Add(new Sender(conns[i + 1], chat, 1));
            memberships.Add((conns[i], chat));
            memberships.Add((conns[i + 1], chat));
        }
        // interleave so that consecutive messages come from different pairs
        senders = senders.OrderBy(s => (s.Conn.Index % 2) * conns.Count + s.Conn.Index).ToList();
        h.Result.Settings["users"] = users.ToString(CultureInfo.InvariantCulture);
        h.Result.Settings["pairs"] = (users / 2).ToString(CultureInfo.InvariantCulture);
        h.Result.Settings["senders"] = senders.Count.ToString(CultureInfo.InvariantCulture);
        await RunMessagingAsync(h, "direct", conns, senders, sink, memberships, plan);
    }

    // ---------------------------------------------------------------- group

    public static async Task GroupAsync(Harness h)
    {
        var o = h.Opt;
        int groups = o.Int("groups", 1, 1, 10_000);
        int members = o.Int("members", 500, 2, 100_000);
        int sendersPer = o.Int("senders", Math.Min(members, 20), 1, members);
        var plan = Plan(h, defaultRate: 20);
        o.EnsureAllUsed();
        await h.WaitHealthyAsync();
        var list = await h.UsersAsync(groups * members);
        var sink = new MessagingSink(h.Stats);
        var conns = list.Select((u, i) => new Conn(i, u, h.Stats, sink) { MaxReconnects = 3 }).ToList();
        Console.WriteLine($"creating {groups} groups of {members}");
        var groupIds = new string[groups];
        await Parallel.ForEachAsync(Enumerable.Range(0, groups), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = h.Ct }, async (g, ct) =>
        {
            var owner = list[g * members];
            var others = list.Skip(g * members + 1).Take(members - 1).Select(u => u.UserId).ToList();
            var reply = await h.Api.As(owner.Token).CreateGroupAsync($"bench {h.Stats.RunId} {g}", others, "load test", ct);
            if (reply.Members.Count != members) throw new InvalidOperationException($"group {reply.GroupId} has {reply.Members.Count} members, expected {members}");
            groupIds[g] = reply.GroupId;
        });
        var senders = new List<Sender>();
        var memberships = new List<(Conn, string)>();
        for (int g = 0; g < groups; g++)
        {
            for (int m = 0; m < members; m++) memberships.Add((conns[g * members + m], groupIds[g]));
            for (int k = 0; k < sendersPer; k++) senders.Add(new Sender(conns[g * members + k * members / sendersPer], groupIds[g], members - 1));
        }
        senders = senders.OrderBy(s => s.Conn.Index % members).ThenBy(s => s.Conn.Index).ToList();
        double planned = plan.Steps.Zip(plan.Seconds).Sum(x => x.First.TargetRate * x.Second) * 1.05 + 1000;
        sink.Remaining = new int[(int)Math.Min(planned, 20_000_000)];
        h.Result.Settings["groups"] = groups.ToString(CultureInfo.InvariantCulture);
        h.Result.Settings["members"] = members.ToString(CultureInfo.InvariantCulture);
        h.Result.Settings["senders_per_group"] = sendersPer.ToString(CultureInfo.InvariantCulture);
        h.Result.Settings["users"] = (groups * members).ToString(CultureInfo.InvariantCulture);
        await RunMessagingAsync(h, "group", conns, senders, sink, memberships, plan);
    }

    // ---------------------------------------------------------------- shared open-loop run

    public sealed record RunPlan(List<StepStats> Steps, List<double> Seconds, double StopP99Ms, int DrainSeconds, bool Ramp);

    public static RunPlan Plan(Harness h, int defaultRate)
    {
        var o = h.Opt;
        var ramp = o.IntList("ramp", 1, 10_000_000);
        int rate = o.Int("rate", defaultRate, 1, 10_000_000);
        bool isRamp = ramp.Count > 0;
        var rates = isRamp ? ramp : [rate];
        int duration = o.Int("duration", isRamp ? 20 : 30, 1, 3600);
        int warmup = o.Int("warmup", 5, 0, 600);
        double stopP99 = o.Dbl("stop-p99-ms", isRamp ? 1000 : 0, 0, 600_000);
        int drain = o.Int("drain", 15, 0, 600);
        var steps = new List<StepStats>();
        var seconds = new List<double>();
        if (warmup > 0)
        {
            steps.Add(new StepStats { Index = 0, Name = "warm-up", TargetRate = Math.Min(rates[0], 1000), Warmup = true });
            seconds.Add(warmup);
        }
        foreach (var r in rates)
        {
            steps.Add(new StepStats { Index = steps.Count, Name = isRamp ? $"{r}/s" : "run", TargetRate = r });
            seconds.Add(duration);
        }
        h.Stats.Steps.AddRange(steps);
        h.Result.Settings["rates"] = string.Join(",", rates);
        h.Result.Settings["step_seconds"] = duration.ToString(CultureInfo.InvariantCulture);
        h.Result.Settings["warmup_seconds"] = warmup.ToString(CultureInfo.InvariantCulture);
        if (stopP99 > 0) h.Result.Settings["stop_p99_ms"] = Inv(stopP99);
        double total = seconds.Sum();
        Console.WriteLine($"plan: {string.Join(", ", steps.Zip(seconds).Select(x => $"{x.First.Name} {x.First.TargetRate}/s × {x.Second}s"))} (at most {total:F0} s + drain {drain} s)");
        return new RunPlan(steps, seconds, stopP99, drain, isRamp);
    }

    private static Task RunMessagingAsync(Harness h, string scenario, List<Conn> conns, List<Sender> senders, MessagingSink sink,
        List<(Conn, string)> memberships, RunPlan plan) =>
        RunMessagingAsync(h, scenario, conns, senders, OpenLoop.NewMessages(h, sink), sink.Remaining is not null, memberships, plan, seed: null, perStep: null, figures: null);

    /// <summary>
    /// The open-loop run every messaging scenario shares: connect, quiesce, <paramref name="seed"/> (the rich scenario's
    /// target messages), the steps, a bounded drain, per-step results; <paramref name="perStep"/> and <paramref name="figures"/>
    /// add the scenario's own.
    /// </summary>
    public static async Task RunMessagingAsync(Harness h, string scenario, List<Conn> conns, List<Sender> senders, FrameFactory makeFrame,
        bool allMembers, List<(Conn, string)> memberships, RunPlan plan, Func<Task>? seed, Action<StepStats, StepResult>? perStep, Action? figures)
    {
        var stats = h.Stats;
        h.Phase = "connect";
        int failed = await h.ConnectAllAsync(conns, h.ConnectParallel, "connect");
        if (failed > conns.Count / 100) throw new InvalidOperationException($"{failed} of {conns.Count} sockets failed to connect; not measuring");
        h.Phase = "quiesce";
        await h.QuiesceAsync(quiet: 1.0, max: 30);
        if (seed is not null) await seed();

        using var stopBg = new CancellationTokenSource();
        var hb = h.HeartbeatLoopAsync(conns, stopBg.Token);
        var progress = ProgressAsync(h, conns, stopBg.Token);
        var scrape = h.ScrapeLoopAsync(stopBg.Token);

        var loop = new OpenLoop(h, senders, makeFrame);
        await loop.RunAsync(plan.Steps, plan.Seconds, step =>
        {
            long pending = step.Sent - step.Acked - step.Errors - step.SendFailed;
            double p99 = Hist.Ms(step.E2e, 99);
            if (plan.StopP99Ms > 0 && p99 > plan.StopP99Ms)
            {
                Console.WriteLine($"  stop: p99 {p99:F0} ms > {plan.StopP99Ms} ms at {step.Name}");
                return true;
            }
            if (plan.Ramp && pending > Math.Max(1000, step.TargetRate * 3))
            {
                Console.WriteLine($"  stop: {pending} messages still unacked at the end of {step.Name} (server saturated)");
                return true;
            }
            return false;
        }, h.Ct);

        // drain: wait for outstanding acks and deliveries (bounded)
        h.Phase = "drain";
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed.TotalSeconds < plan.DrainSeconds)
        {
            long sent = 0, settled = 0, expected = 0, delivered = 0;
            foreach (var s in plan.Steps)
            {
                sent += s.Sent;
                settled += s.Acked + s.Errors + s.SendFailed;
                expected += s.Acked * senders[0].Recipients;
                delivered += s.Delivered;
            }
            if (settled >= sent && delivered >= expected) break;
            await Task.Delay(100, h.Ct);
        }
        Console.WriteLine($"  drain took {sw.Elapsed.TotalSeconds:F1} s");
        await stopBg.CancelAsync();
        await hb;
        await progress;
        await scrape;

        int recipients = senders[0].Recipients;
        foreach (var s in plan.Steps.Where(s => s.StartTicks != 0))
        {
            var (scpu, tcpu, srss, _) = h.Sampler.Summary(s.Name);
            double secs = s.Seconds;
            var sr = new StepResult
            {
                Name = s.Name,
                Warmup = s.Warmup,
                TargetRate = s.TargetRate,
                Seconds = Math.Round(secs, 2),
                OfferedRate = Math.Round(s.Sent / secs, 1),
                AckedRate = Math.Round(s.Acked / secs, 1),
                DeliveredRate = Math.Round(s.Delivered / secs, 1),
                Sent = s.Sent,
                SendFailed = s.SendFailed,
                Acked = s.Acked,
                Errors = s.Errors,
                ExpectedDeliveries = s.Acked * recipients,
                Delivered = s.Delivered,
                Lost = Math.Max(0, s.Acked * recipients - s.Delivered),
                Duplicates = s.Duplicates,
                E2e = Hist.Summary(s.E2e),
                Ack = Hist.Summary(s.AckLatency),
                AllMembers = allMembers ? Hist.Summary(s.AllMembers) : null,
                ServerCpuPct = scpu,
                ToolCpuPct = tcpu,
                MachineCpuPct = h.Sampler.MachineCpu(s.Name),
                ServerRssMaxMb = srss,
                ServerMetrics = h.Sampler.ServerDelta(s.Name),
            };
            perStep?.Invoke(s, sr);
            h.Result.Steps.Add(sr);
        }
        foreach (var sr in h.Result.Steps.Where(x => !x.Warmup))
            h.Result.Notes.Add($"{sr.Name}: {CpuVerdict(sr.ServerCpuPct, sr.ToolCpuPct, sr.MachineCpuPct)}");
        long missing = MessagingSink.CountMissing(memberships);
        h.Result.Figures["missing_member_seqs_after_drain"] = missing;
        h.Result.Figures["unacked_sends"] = plan.Steps.Sum(s => s.Sent - s.Acked - s.Errors - s.SendFailed);
        h.Result.Figures["open_sockets_at_end"] = h.OpenCount(conns);
        var measured = h.Result.Steps.Where(s => !s.Warmup).ToList();
        var ok = measured.Where(s => s.E2e.P99Ms < 100 && s.Lost == 0 && s.Errors == 0 && s.SendFailed == 0 && s.OfferedRate >= s.TargetRate * 0.95).ToList();
        if (ok.Count > 0) h.Result.Figures["best_rate_p99_under_100ms_no_loss"] = ok.Max(s => s.OfferedRate);
        figures?.Invoke();
        h.Result.Notes.Add("latency = scheduled send instant (open loop) → recipient's receive; ack = scheduled send → sender's ack; both include the tool's own delays");
        h.Phase = "close";
        await Harness.CloseAllAsync(conns, 256);
        h.Finish(scenario);
    }

    /// <summary>Who used the 2 shared cores: the server, the tool, or something else.</summary>
    public static string CpuVerdict(double server, double tool, double machine)
    {
        double cap = Environment.ProcessorCount * 100.0;
        double other = Math.Max(0, machine - server - tool);
        string split = $"server {server:F0} %, tool {tool:F0} %, other processes {other:F0} % of {cap:F0} %";
        if (machine < 0 || server < 0) return split;
        if (machine >= cap * 0.9)
            return $"machine CPU-saturated ({split}); " + (other > cap * 0.15 ? "other processes took a real share: figures are pessimistic"
                : server >= tool ? "the server is the larger consumer" : "the load tool is the larger consumer: the server may do better with a separate load machine");
        return $"CPU not saturated ({split})" + (server >= 90 && server < 110 ? "; the server near one full core may be limited by a single hot thread" : "");
    }

    private static async Task ProgressAsync(Harness h, List<Conn> conns, CancellationToken ct)
    {
        var st = h.Stats;
        long lastSent = st.TotalSent, lastAcked = st.TotalAcked, lastDel = st.TotalDelivered;
        var sw = Stopwatch.StartNew();
        double lastT = 0;
        while (!ct.IsCancellationRequested)
        {
            try { await Task.Delay(1000, ct); } catch (OperationCanceledException) { break; }
            double t = sw.Elapsed.TotalSeconds, dt = t - lastT;
            lastT = t;
            long sent = Interlocked.Read(ref st.TotalSent), acked = Interlocked.Read(ref st.TotalAcked), del = Interlocked.Read(ref st.TotalDelivered);
            var iv = st.TakeInterval();
            var s = h.Sampler.Tick(h.Elapsed, h.Phase);
            s.SentPerSec = Math.Round((sent - lastSent) / dt);
            s.AckedPerSec = Math.Round((acked - lastAcked) / dt);
            s.DeliveredPerSec = Math.Round((del - lastDel) / dt);
            s.P50Ms = Hist.Ms(iv, 50);
            s.P99Ms = Hist.Ms(iv, 99);
            s.OpenSockets = h.OpenCount(conns);
            lastSent = sent; lastAcked = acked; lastDel = del;
            long errs = st.ErrorCodes.Values.Sum();
            Console.WriteLine($"  [{h.Phase,-8}] {h.Elapsed,6:F0}s sent {s.SentPerSec,7:F0}/s acked {s.AckedPerSec,7:F0}/s deliv {s.DeliveredPerSec,7:F0}/s | e2e p50 {s.P50Ms,7:F1} p99 {s.P99Ms,8:F1} max {Hist.MaxMs(iv),8:F1} ms | open {s.OpenSockets} err {errs} disc {st.Disconnects} | server {s.ServerCpuPct,3:F0}% {s.ServerRssMb,6:F0} MiB | tool {s.ToolCpuPct,3:F0}% | machine {s.MachineCpuPct,3:F0}%");
        }
    }

    // ---------------------------------------------------------------- connections

    public static async Task ConnectionsAsync(Harness h)
    {
        var o = h.Opt;
        int users = o.Int("users", 10_000, 1, 1_000_000);
        int perUser = o.Int("sockets-per-user", 1, 1, 1000);
        int hold = o.Int("duration", 60, 1, 3600);
        int settle = o.Int("settle", 5, 0, 120);
        int waves = o.Int("waves", 4, 1, 20);
        o.EnsureAllUsed();
        await h.WaitHealthyAsync();
        var list = await h.UsersAsync(users);
        var sink = new MessagingSink(h.Stats);
        var conns = new List<Conn>(users * perUser);
        for (int k = 0; k < perUser; k++)
            for (int i = 0; i < users; i++)
                conns.Add(new Conn(conns.Count, list[i], h.Stats, sink) { ReceiveBufferSize = 512 });
        h.Result.Settings["users"] = users.ToString(CultureInfo.InvariantCulture);
        h.Result.Settings["sockets"] = conns.Count.ToString(CultureInfo.InvariantCulture);
        h.Result.Settings["sockets_per_user"] = perUser.ToString(CultureInfo.InvariantCulture);
        h.Result.Settings["hold_seconds"] = hold.ToString(CultureInfo.InvariantCulture);

        h.Phase = "baseline";
        for (int i = 0; i < Math.Max(2, settle); i++) { await Task.Delay(1000, h.Ct); h.Sampler.Tick(h.Elapsed, h.Phase); }
        double baseRss = h.Sampler.Latest.ServerRssMb, baseTool = h.Sampler.Latest.ToolRssMb;
        Console.WriteLine($"baseline: server RSS {baseRss:F1} MiB, tool RSS {baseTool:F1} MiB");

        // connect in waves; the RSS after each wave gives a slope (KiB per socket) that ignores fixed costs
        h.Phase = "connect";
        var sw = Stopwatch.StartNew();
        int failed = 0;
        var points = new List<(double Sockets, double RssMb)> { (0, baseRss) };
        for (int w = 0; w < waves; w++)
        {
            var wave = conns.Skip(conns.Count * w / waves).Take(conns.Count * (w + 1) / waves - conns.Count * w / waves).ToList();
            failed += await h.ConnectAllAsync(wave, h.ConnectParallel, $"wave {w + 1}/{waves}");
            for (int i = 0; i < settle; i++) { await Task.Delay(1000, h.Ct); h.Sampler.Tick(h.Elapsed, h.Phase); }
            var smp = h.Sampler.Tick(h.Elapsed, h.Phase);
            points.Add((h.OpenCount(conns), smp.ServerRssMb));
            Console.WriteLine($"  after wave {w + 1}: {points[^1].Sockets} sockets, server RSS {smp.ServerRssMb:F1} MiB");
        }
        double connectSecs = sw.Elapsed.TotalSeconds - waves * settle;
        double slope = Slope(points);

        h.Phase = "hold";
        using var stopBg = new CancellationTokenSource();
        var hb = h.HeartbeatLoopAsync(conns, stopBg.Token);
        var holdSw = Stopwatch.StartNew();
        for (int t = 0; t < hold * 10 && holdSw.Elapsed.TotalSeconds < hold; t++)
        {
            await Task.Delay(100, h.Ct);
            if (t % 10 != 9) continue;
            var s = h.Sampler.Tick(h.Elapsed, h.Phase);
            s.OpenSockets = h.OpenCount(conns);
            if (t % 50 == 49 || holdSw.Elapsed.TotalSeconds >= hold - 1)
                Console.WriteLine($"  [hold] {holdSw.Elapsed.TotalSeconds,4:F0}s open {s.OpenSockets} | server {s.ServerCpuPct:F0}% CPU {s.ServerRssMb:F0} MiB {s.ServerThreads} threads | tool {s.ToolCpuPct:F0}% {s.ToolRssMb:F0} MiB | hb rtt p99 {Hist.Ms(h.Stats.HeartbeatRtt, 99):F1} ms");
        }
        await stopBg.CancelAsync();
        await hb;
        var end = h.Sampler.Latest;
        int open = h.OpenCount(conns);
        var (holdCpu, holdToolCpu, holdRssMax, _) = h.Sampler.Summary("hold");
        h.Phase = "close";
        var closeSw = Stopwatch.StartNew();
        await Harness.CloseAllAsync(conns, 512);
        double closeSecs = closeSw.Elapsed.TotalSeconds;
        for (int i = 0; i < settle; i++) { await Task.Delay(1000, h.Ct); h.Sampler.Tick(h.Elapsed, "after-close"); }
        var after = h.Sampler.Latest;

        var f = h.Result.Figures;
        f["sockets_requested"] = conns.Count;
        f["sockets_failed"] = failed;
        f["sockets_open_at_end_of_hold"] = open;
        f["connect_seconds"] = Math.Round(connectSecs, 2);
        f["connects_per_second"] = Math.Round(conns.Count / connectSecs, 0);
        f["server_rss_baseline_mib"] = baseRss;
        f["server_rss_held_mib"] = end.ServerRssMb;
        f["server_rss_max_during_hold_mib"] = holdRssMax;
        f["server_kib_per_socket"] = open > 0 ? Math.Round((end.ServerRssMb - baseRss) * 1024 / open, 2) : 0;
        f["server_kib_per_socket_slope"] = Math.Round(slope * 1024, 2);
        h.Result.Notes.Add("server RSS after each connect wave (sockets → MiB): " + string.Join(", ", points.Select(p => $"{p.Sockets:F0} → {p.RssMb:F1}")));
        f["server_cpu_pct_during_hold"] = holdCpu;
        f["machine_cpu_pct_during_hold"] = h.Sampler.MachineCpu("hold");
        f["server_threads_held"] = end.ServerThreads;
        f["server_rss_after_close_mib"] = after.ServerRssMb;
        f["tool_kib_per_socket"] = open > 0 ? Math.Round((end.ToolRssMb - baseTool) * 1024 / open, 2) : 0;
        f["tool_cpu_pct_during_hold"] = holdToolCpu;
        f["close_seconds"] = Math.Round(closeSecs, 2);
        f["heartbeats_answered"] = h.Stats.HeartbeatRtt.TotalCount;
        h.Result.Notes.Add("server KiB per socket = (VmRSS at the end of the hold − VmRSS before connecting) / open sockets; the slope is the least-squares fit over the waves (fixed costs excluded). Only meaningful on a freshly started server: a warm GC heap reuses memory it already holds");
        h.Finish("connections");
    }

    private static double Slope(List<(double X, double Y)> pts)
    {
        if (pts.Count < 2) return 0;
        double mx = pts.Average(p => p.X), my = pts.Average(p => p.Y);
        double num = pts.Sum(p => (p.X - mx) * (p.Y - my)), den = pts.Sum(p => (p.X - mx) * (p.X - mx));
        return den == 0 ? 0 : num / den;
    }

    // ---------------------------------------------------------------- presence (issue 4)

    /// <summary>
    /// Cost of presence: N idle sockets (control), then each subscribes to K random others, then --reconnect-pct-per-min
    /// of them close and reopen (and re-subscribe) per minute, spread evenly over --duration seconds.
    /// </summary>
    public static async Task PresenceAsync(Harness h)
    {
        var o = h.Opt;
        int users = o.Int("users", 10_000, 2, 1_000_000);
        int subs = o.Int("subscriptions", 50, 1, 500);
        double pct = o.Dbl("reconnect-pct-per-min", 10, 0, 100);
        int duration = o.Int("duration", 120, 1, 3600);
        int settle = o.Int("settle", 10, 2, 120);
        int offlineMs = o.Int("offline-ms", 0, 0, 600_000);
        int seed = o.Int("seed", 4, 0, int.MaxValue);
        o.EnsureAllUsed();
        if (subs > users - 1) throw new UsageException($"--subscriptions {subs} needs at least {subs + 1} --users");
        await h.WaitHealthyAsync();
        var list = await h.UsersAsync(users);
        var sink = new MessagingSink(h.Stats);
        var conns = list.Select((u, i) => new Conn(i, u, h.Stats, sink) { ReceiveBufferSize = 1024, MaxReconnects = 0 }).ToList();

        // each user's K distinct random others (fixed seed: the same graph every run)
        var rng = new Random(seed);
        var subFrames = new byte[users][];
        var pick = new HashSet<int>();
        for (int i = 0; i < users; i++)
        {
            pick.Clear();
            for (int tries = 0; pick.Count < subs && tries < subs * 100; tries++)
            {
                int j = rng.Next(users);
                if (j != i) pick.Add(j);
            }
            subFrames[i] = Conn.PresenceSubscribe(pick.Select(j => list[j].UserId).ToList());
        }
        long Updates() => h.Stats.FrameTypes.GetValueOrDefault(ServerFrameType.PresenceUpdate);

        int perMin = (int)Math.Round(users * pct / 100);
        int planned = (int)Math.Floor(duration * perMin / 60.0);
        double gap = perMin > 0 ? 60.0 / perMin : 0;
        h.Result.Settings["users"] = users.ToString(CultureInfo.InvariantCulture);
        h.Result.Settings["subscriptions_per_user"] = subs.ToString(CultureInfo.InvariantCulture);
        h.Result.Settings["reconnect_pct_per_min"] = Inv(pct);
        h.Result.Settings["reconnects_per_min"] = perMin.ToString(CultureInfo.InvariantCulture);
        h.Result.Settings["churn_seconds"] = duration.ToString(CultureInfo.InvariantCulture);
        h.Result.Settings["settle_seconds"] = settle.ToString(CultureInfo.InvariantCulture);
        h.Result.Settings["offline_ms"] = offlineMs.ToString(CultureInfo.InvariantCulture);
        h.Result.Settings["seed"] = seed.ToString(CultureInfo.InvariantCulture);

        async Task SettleAsync(string phase, int seconds)
        {
            h.Phase = phase;
            long u0 = Updates();
            for (int i = 0; i < seconds; i++)
            {
                await Task.Delay(1000, h.Ct);
                var s = h.Sampler.Tick(h.Elapsed, phase);
                s.OpenSockets = h.OpenCount(conns);
            }
            var l = h.Sampler.Latest;
            Console.WriteLine($"  [{phase}] open {l.OpenSockets} | server {h.Sampler.Summary(phase).ServerCpu:F1}% CPU avg, RSS {l.ServerRssMb:F1} MiB | machine {h.Sampler.MachineCpu(phase):F0}% | presence_update {Updates() - u0}");
        }

        await SettleAsync("baseline", Math.Max(2, settle / 2));
        double baseRss = h.Sampler.Latest.ServerRssMb;

        h.Phase = "connect";
        int failed = await h.ConnectAllAsync(conns, h.ConnectParallel, "connect");
        if (failed > conns.Count / 100) throw new InvalidOperationException($"{failed} of {conns.Count} sockets failed to connect; not measuring");

        using var stopBg = new CancellationTokenSource();
        var hb = h.HeartbeatLoopAsync(conns, stopBg.Token);
        var scrape = h.ScrapeLoopAsync(stopBg.Token);

        // control: connected, no subscriptions
        await SettleAsync("control", settle);
        double controlRss = h.Sampler.Latest.ServerRssMb;

        // subscribe: every open socket sends one presence_subscribe; wait (bounded) for the initial presence_update frames
        h.Phase = "subscribe";
        long updatesBeforeSub = Updates();
        int subSendFailed = 0, subscribed = 0;
        var subSw = Stopwatch.StartNew();
        await Parallel.ForEachAsync(conns, new ParallelOptions { MaxDegreeOfParallelism = h.ConnectParallel, CancellationToken = h.Ct }, async (c, _) =>
        {
            if (!c.IsOpen) return;
            if (await c.SendAsync(subFrames[c.Index])) Interlocked.Increment(ref subscribed);
            else Interlocked.Increment(ref subSendFailed);
        });
        long expectedInitial = (long)subscribed * subs;
        for (int i = 0; i < 600 && subSw.Elapsed.TotalSeconds < 60 && Updates() - updatesBeforeSub < expectedInitial; i++)
        {
            await Task.Delay(100, h.Ct);
            if (i % 10 == 9) h.Sampler.Tick(h.Elapsed, "subscribe");
        }
        double subSecs = subSw.Elapsed.TotalSeconds;
        long initialUpdates = Updates() - updatesBeforeSub;
        Console.WriteLine($"  [subscribe] {subscribed} sockets × {subs} subscriptions, {initialUpdates}/{expectedInitial} initial presence_update frames in {subSecs:F1} s");
        await SettleAsync("subscribed", settle);
        double subRss = h.Sampler.Latest.ServerRssMb;
        int openSubscribed = h.OpenCount(conns);

        // churn: close and reopen ~perMin sockets a minute, evenly spread; each reopened socket re-subscribes
        h.Phase = "churn";
        var order = Enumerable.Range(0, users).ToArray();
        rng.Shuffle(order);
        int reconnectsOk = 0, reconnectsFailed = 0, resubscribed = 0, started = 0;
        var inflight = new List<Task>(planned);
        var perSecond = new List<long>(duration + 1);
        var churnSw = Stopwatch.StartNew();
        long u0 = Updates(), uLast = u0;
        int nextTick = 1;
        for (int step = 0; step < duration * 20 + 20 && churnSw.Elapsed.TotalSeconds < duration; step++)
        {
            await Task.Delay(50, h.Ct);
            double now = churnSw.Elapsed.TotalSeconds;
            for (int n = 0; n < 1000 && started < planned && started * gap <= now; n++)
            {
                var c = conns[order[started % users]];
                started++;
                inflight.Add(Task.Run(async () =>
                {
                    await c.CloseAsync(TimeSpan.FromSeconds(5));
                    if (offlineMs > 0) await Task.Delay(offlineMs, CancellationToken.None);
                    string? r = await c.ConnectAsync(h.Connector!, TimeSpan.FromSeconds(30), h.Ct);
                    if (r is not null) { Interlocked.Increment(ref reconnectsFailed); return; }
                    Interlocked.Increment(ref reconnectsOk);
                    if (await c.SendAsync(subFrames[c.Index])) Interlocked.Increment(ref resubscribed);
                }, CancellationToken.None));
            }
            if (now < nextTick) continue;
            var s = h.Sampler.Tick(h.Elapsed, "churn");
            s.OpenSockets = h.OpenCount(conns);
            long u = Updates();
            perSecond.Add(u - uLast);
            uLast = u;
            if (nextTick % 10 == 0)
                Console.WriteLine($"  [churn] {now,4:F0}s reconnects {reconnectsOk} ok {reconnectsFailed} failed | presence_update {u - u0} | open {s.OpenSockets} | server {s.ServerCpuPct:F0}% CPU {s.ServerRssMb:F0} MiB | machine {s.MachineCpuPct:F0}%");
            nextTick = (int)now + 1;
        }
        double churnSecs = churnSw.Elapsed.TotalSeconds;
        long churnUpdates = Updates() - u0;
        int resubscribedInChurn = Volatile.Read(ref resubscribed);
        var churnSample = h.Sampler.Latest;
        try { await Task.WhenAll(inflight).WaitAsync(TimeSpan.FromSeconds(60), h.Ct); }
        catch (TimeoutException) { h.Result.Notes.Add("some reconnects were still running 60 s after the churn phase ended"); }
        await stopBg.CancelAsync();
        await hb;
        await scrape;
        int openEnd = h.OpenCount(conns);
        h.Phase = "close";
        await Harness.CloseAllAsync(conns, 512);

        var (ctlCpu, ctlTool, _, _) = h.Sampler.Summary("control");
        var (subCpu, _, _, _) = h.Sampler.Summary("subscribed");
        var (churnCpu, churnTool, churnRssMax, _) = h.Sampler.Summary("churn");
        long totalSubs = (long)openSubscribed * subs;
        var f = h.Result.Figures;
        f["sockets_requested"] = conns.Count;
        f["sockets_failed"] = failed;
        f["server_rss_baseline_mib"] = baseRss;
        f["server_rss_control_mib"] = controlRss;
        f["server_rss_subscribed_mib"] = subRss;
        f["server_rss_end_of_churn_mib"] = churnSample.ServerRssMb;
        f["server_rss_max_during_churn_mib"] = churnRssMax;
        f["subscriptions_total"] = totalSubs;
        f["subscription_rss_delta_mib"] = Math.Round(subRss - controlRss, 1);
        f["server_bytes_per_subscription"] = totalSubs > 0 ? Math.Round((subRss - controlRss) * 1048576 / totalSubs, 1) : 0;
        f["subscribe_seconds"] = Math.Round(subSecs, 2);
        f["initial_presence_updates"] = initialUpdates;
        f["initial_presence_updates_expected"] = expectedInitial;
        f["subscribe_send_failed"] = subSendFailed;
        f["server_cpu_pct_control_idle"] = ctlCpu;
        f["server_cpu_pct_subscribed_idle"] = subCpu;
        f["server_cpu_pct_churn"] = churnCpu;
        f["machine_cpu_pct_control"] = h.Sampler.MachineCpu("control");
        f["machine_cpu_pct_subscribed"] = h.Sampler.MachineCpu("subscribed");
        f["machine_cpu_pct_churn"] = h.Sampler.MachineCpu("churn");
        f["tool_cpu_pct_control"] = ctlTool;
        f["tool_cpu_pct_churn"] = churnTool;
        f["churn_seconds"] = Math.Round(churnSecs, 1);
        f["reconnects_planned"] = planned;
        f["reconnects_started"] = started;
        f["reconnects_done"] = reconnectsOk;
        f["reconnects_failed"] = reconnectsFailed;
        f["resubscribes_sent"] = resubscribed;
        f["presence_updates_during_churn"] = churnUpdates;
        f["presence_updates_per_s_churn"] = Math.Round(churnUpdates / Math.Max(0.001, churnSecs), 1);
        f["presence_updates_per_s_churn_max"] = perSecond.Count > 0 ? perSecond.Max() : 0;
        // each re-subscribe is answered with `subs` current-state frames; the rest are pushed on real status changes
        f["resubscribes_sent_during_churn"] = resubscribedInChurn;
        f["presence_updates_per_s_from_changes"] = Math.Round(Math.Max(0, churnUpdates - (long)resubscribedInChurn * subs) / Math.Max(0.001, churnSecs), 1);
        f["error_frames"] = h.Stats.ErrorCodes.Values.Sum();
        f["sockets_open_at_end"] = openEnd;
        h.Result.Notes.Add("subscription RSS delta = VmRSS after the 'subscribed' settle − VmRSS after the 'control' settle (same sockets, no subscriptions); bytes per subscription divides it by open sockets × subscriptions. VmRSS includes GC heap slack, so treat small deltas as noise");
        h.Result.Notes.Add("presence_updates_per_s_from_changes = (all presence_update frames during churn − re-subscribes sent during churn × subscriptions) / churn seconds; the re-subscribe answers are estimated, not tagged");
        if (offlineMs == 0) h.Result.Notes.Add("reconnects reopen at once (--offline-ms 0): a user back within the presence grace period (default 10 s) may never turn offline, so few change-driven updates are expected");
        h.Finish("presence");
    }

    // ---------------------------------------------------------------- catch-up

    private sealed class CatchupSink(RunStats stats, int expected) : IFrameSink
    {
        private readonly string _run = stats.RunId;
        public SemaphoreSlim? Window;
        public long T0;
        public int DevicesLeft;
        public long Duplicates;
        public readonly HdrHistogram.LongConcurrentHistogram DoneAt = Hist.New();

        public void OnNewMessage(Conn c, MessageFrame f)
        {
            var tag = Tag.Parse(f.Content, _run);
            if (!tag.Ours) tag = Tag.Parse(f.ClientMsgId, _run);
            if (!tag.Ours) { Interlocked.Increment(ref stats.StaleDelivered); return; }
            if (!MessagingSink.Track(c, f.ChatId).Mark(f.Seq)) { Interlocked.Increment(ref Duplicates); return; }
            Interlocked.Increment(ref stats.TotalDelivered);
            if (++c.DeliveredThisRun == expected && T0 != 0)
            {
                long now = Stopwatch.GetTimestamp();
                c.DoneAtTicks = now;
                Hist.Record(DoneAt, Hist.ElapsedUs(T0, now));
                Interlocked.Decrement(ref DevicesLeft);
            }
        }

        public void OnAck(Conn c, AckFrame f)
        {
            var tag = Tag.Parse(f.ClientMsgId, _run);
            if (!tag.Ours || stats.Step(tag.Step) is not { } step) return;
            Interlocked.Increment(ref step.Acked);
            Interlocked.Increment(ref stats.TotalAcked);
            Hist.Record(step.AckLatency, Hist.ElapsedUs(tag.Ticks, Stopwatch.GetTimestamp()));
            Window?.Release();
        }

        public void OnError(Conn c, ErrorFrame f)
        {
            var tag = Tag.Parse(f.ClientMsgId, _run);
            if (!tag.Ours || stats.Step(tag.Step) is not { } step) return;
            Interlocked.Increment(ref step.Errors);
            Window?.Release();
        }
    }

    public static async Task CatchupAsync(Harness h)
    {
        var o = h.Opt;
        int n = o.Int("users", 10_000, 1, 1_000_000);
        int m = o.Int("messages", 20, 1, 10_000);
        int k = o.Int("senders", Math.Max(1, n / 10), 1, 1_000_000);
        int window = o.Int("window", 2000, 1, 1_000_000);
        int timeout = o.Int("timeout", 120, 1, 3600);
        int fillTimeout = o.Int("fill-timeout", 600, 1, 7200);
        int reconnectParallel = o.Int("reconnect-parallel", 1000, 1, 100_000);
        o.EnsureAllUsed();
        await h.WaitHealthyAsync();
        var list = await h.UsersAsync(n + k);
        var sink = new CatchupSink(h.Stats, m);
        var fill = new StepStats { Index = 0, Name = "fill", TargetRate = 0 };
        h.Stats.Steps.Add(fill);
        var recipients = list.Take(n).Select((u, i) => new Conn(i, u, h.Stats, sink)).ToList();
        var senders = list.Skip(n).Take(k).Select((u, i) => new Conn(n + i, u, h.Stats, sink)).ToList();
        var chats = recipients.Select((r, i) => DirectChatId(senders[i % k].User.UserId, r.User.UserId)).ToArray();
        h.Result.Settings["devices"] = n.ToString(CultureInfo.InvariantCulture);
        h.Result.Settings["messages_per_device"] = m.ToString(CultureInfo.InvariantCulture);
        h.Result.Settings["senders"] = k.ToString(CultureInfo.InvariantCulture);
        h.Result.Settings["users"] = (n + k).ToString(CultureInfo.InvariantCulture);

        // 1. recipients come online once to drain anything earlier runs left unacked, then go offline
        h.Phase = "prepare";
        Console.WriteLine($"1/4 recipients connect once and drain older backlog");
        await h.ConnectAllAsync(recipients, h.ConnectParallel, "prepare");
        await h.QuiesceAsync(quiet: 1.5, max: 60);
        await Harness.CloseAllAsync(recipients, 512);
        foreach (var r in recipients) r.Chats.Clear();

        // 2. senders write M messages to each offline device (closed loop, bounded window)
        h.Phase = "fill";
        Console.WriteLine($"2/4 {k} senders write {m} messages to each of {n} offline devices ({(long)n * m} messages)");
        await h.ConnectAllAsync(senders, h.ConnectParallel, "senders");
        using (var win = new SemaphoreSlim(window, window))
        {
            sink.Window = win;
            var fillSw = Stopwatch.StartNew();
            fill.StartTicks = Stopwatch.GetTimestamp();
            long seqNo = 0;
            using var fillCts = CancellationTokenSource.CreateLinkedTokenSource(h.Ct);
            fillCts.CancelAfter(TimeSpan.FromSeconds(fillTimeout));
            long lastPrint = 0;
            try
            {
                for (int j = 0; j < m; j++)
                {
                    for (int i = 0; i < n; i++)
                    {
                        await win.WaitAsync(fillCts.Token);
                        var s = senders[i % k];
                        byte[] frame = Conn.NewMessage(chats[i], Tag.Make(h.Stats.RunId, 0, seqNo++, Stopwatch.GetTimestamp()), h.ContentBytes);
                        Interlocked.Increment(ref fill.Sent);
                        if (!await s.SendAsync(frame)) { Interlocked.Increment(ref fill.SendFailed); win.Release(); }
                        if (fillSw.ElapsedMilliseconds - lastPrint >= 2000)
                        {
                            lastPrint = fillSw.ElapsedMilliseconds;
                            var smp = h.Sampler.Tick(h.Elapsed, h.Phase);
                            Console.WriteLine($"  [fill] {fill.Acked}/{(long)n * m} acked, {fill.Acked / fillSw.Elapsed.TotalSeconds:F0}/s | server {smp.ServerCpuPct:F0}% {smp.ServerRssMb:F0} MiB | tool {smp.ToolCpuPct:F0}%");
                        }
                    }
                }
                for (int i = 0; i < window; i++) await win.WaitAsync(fillCts.Token); // every ack back
            }
            catch (OperationCanceledException) when (!h.Ct.IsCancellationRequested)
            {
                h.Result.Notes.Add($"fill timed out after {fillTimeout} s");
            }
            fill.EndTicks = Stopwatch.GetTimestamp();
            sink.Window = null;
            h.Result.Figures["fill_messages_acked"] = fill.Acked;
            h.Result.Figures["fill_seconds"] = Math.Round(fillSw.Elapsed.TotalSeconds, 2);
            h.Result.Figures["fill_msgs_per_second"] = Math.Round(fill.Acked / fillSw.Elapsed.TotalSeconds, 0);
            h.Result.Figures["fill_ack_p99_ms"] = Hist.Ms(fill.AckLatency, 99);
            Console.WriteLine($"  fill: {fill.Acked} acked, {fill.Errors} errors in {fillSw.Elapsed.TotalSeconds:F1} s ({fill.Acked / fillSw.Elapsed.TotalSeconds:F0}/s)");
        }
        await Harness.CloseAllAsync(senders, 512);
        long expectedPerDevice = m;

        // 3. every device reconnects at once
        h.Phase = "storm";
        await Task.Delay(1000, h.Ct);
        Console.WriteLine($"3/4 {n} devices reconnect at once (parallel {reconnectParallel}), each must receive {m} messages");
        sink.DevicesLeft = n;
        foreach (var r in recipients) { r.DeliveredThisRun = 0; r.DoneAtTicks = 0; }
        long t0 = Stopwatch.GetTimestamp();
        sink.T0 = t0;
        long del0 = Interlocked.Read(ref h.Stats.TotalDelivered);
        var connectTask = h.ConnectAllAsync(recipients, reconnectParallel, "storm", sample: false);
        var stormSw = Stopwatch.StartNew();
        h.Stats.ConnectLatency = Hist.New(); // the table's connect latency = the storm's reconnects only
        double connectedAt = -1;
        long lastDel = del0;
        for (int t = 0; t < timeout * 10; t++)
        {
            if (Volatile.Read(ref sink.DevicesLeft) <= 0) break;
            await Task.Delay(100, h.Ct);
            if (connectedAt < 0 && connectTask.IsCompleted) connectedAt = stormSw.Elapsed.TotalSeconds;
            if (t % 10 == 9)
            {
                long d = Interlocked.Read(ref h.Stats.TotalDelivered);
                var smp = h.Sampler.Tick(h.Elapsed, h.Phase);
                smp.DeliveredPerSec = d - lastDel;
                lastDel = d;
                Console.WriteLine($"  [storm] {stormSw.Elapsed.TotalSeconds,5:F1}s devices done {n - Volatile.Read(ref sink.DevicesLeft)}/{n}, delivered {d - del0}/{(long)n * m} ({smp.DeliveredPerSec}/s) | server {smp.ServerCpuPct:F0}% {smp.ServerRssMb:F0} MiB | tool {smp.ToolCpuPct:F0}%");
            }
        }
        double allDone = Volatile.Read(ref sink.DevicesLeft) <= 0 ? (recipients.Max(r => r.DoneAtTicks) - t0) / (double)Stopwatch.Frequency : -1;
        await connectTask;
        if (connectedAt < 0) connectedAt = stormSw.Elapsed.TotalSeconds;
        long delivered = Interlocked.Read(ref h.Stats.TotalDelivered) - del0;
        var (scpu, tcpu, srss, _) = h.Sampler.Summary("storm");
        var f = h.Result.Figures;
        f["devices"] = n;
        f["devices_complete"] = n - Math.Max(0, sink.DevicesLeft);
        f["expected_deliveries"] = (double)n * m;
        f["delivered_unique"] = delivered;
        f["duplicates"] = sink.Duplicates;
        f["all_sockets_ready_seconds"] = Math.Round(connectedAt, 2);
        f["all_devices_complete_seconds"] = Math.Round(allDone, 3);
        f["deliveries_per_second"] = allDone > 0 ? Math.Round(delivered / allDone, 0) : 0;
        f["server_cpu_pct_storm"] = scpu;
        f["machine_cpu_pct_storm"] = h.Sampler.MachineCpu("storm");
        f["tool_cpu_pct_storm"] = tcpu;
        f["server_rss_max_mib_storm"] = srss;
        h.Result.Extra = Hist.Summary(sink.DoneAt);
        h.Result.ExtraName = "Per-device time from storm start to its last missing message";
        if (allDone < 0) h.Result.Notes.Add($"{sink.DevicesLeft} devices did not get all {expectedPerDevice} messages within {timeout} s");
        h.Phase = "close";
        Console.WriteLine("4/4 closing");
        await Harness.CloseAllAsync(recipients, 512);
        h.Finish("catchup");
    }

    // ---------------------------------------------------------------- setup only

    public static async Task SetupAsync(Harness h)
    {
        int users = h.Opt.Int("users", 10_000, 1, 1_000_000);
        h.Opt.EnsureAllUsed();
        await h.WaitHealthyAsync();
        var list = await h.UsersAsync(users);
        Console.WriteLine($"{list.Count} users ready");
    }
}
