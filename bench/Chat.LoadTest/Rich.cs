using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Chat.Protocol;
using HdrHistogram;

namespace Chat.LoadTest;

/// <summary>
/// The <c>rich</c> scenario (issue 12, "Cost"): users in direct pairs each send one message, then edit and react to it
/// open-loop at the offered rate. Edits and reactions have no ack frame: the server answers with <c>message_updated</c>
/// to every member device, the acting one included, so the actor's own copy is the "ack" and the other member's copy
/// the delivery.
/// </summary>
public static class RichScenario
{
    public static async Task RunAsync(Harness h)
    {
        var o = h.Opt;
        int users = o.Int("users", 2_000, 2, 1_000_000);
        if (users % 2 != 0) users++;
        var ops = ParseOps(o.Str("ops", "edit,react"));
        string emoji = o.Str("emoji", "👍");
        if (string.IsNullOrEmpty(emoji) || emoji.Length > 16) throw new UsageException("--emoji: 1-16 characters");
        var plan = Scenarios.Plan(h, defaultRate: 500);
        o.EnsureAllUsed();
        await h.WaitHealthyAsync();
        var list = await h.UsersAsync(users);
        double planned = plan.Steps.Zip(plan.Seconds).Sum(x => x.First.TargetRate * x.Second) * 1.05 + 1000;
        var sink = new RichSink(h.Stats, users, plan.Steps.Count, (int)Math.Min(planned, 20_000_000));
        var conns = list.Select((u, i) => new Conn(i, u, h.Stats, sink) { MaxReconnects = 0 }).ToList();
        var senders = new List<Sender>();
        for (int i = 0; i + 1 < conns.Count; i += 2)
        {
            string chat = Scenarios.DirectChatId(conns[i].User.UserId, conns[i + 1].User.UserId);
            foreach (var c in new[] { conns[i], conns[i + 1] })
            {
                senders.Add(new Sender(c, chat, 1));
                sink.Actors[c.Index] = new RichActor(c, chat);
            }
        }
        // interleave so that consecutive operations come from different pairs
        senders = senders.OrderBy(s => (s.Conn.Index % 2) * conns.Count + s.Conn.Index).ToList();
        h.Result.Settings["users"] = users.ToString(CultureInfo.InvariantCulture);
        h.Result.Settings["pairs"] = (users / 2).ToString(CultureInfo.InvariantCulture);
        h.Result.Settings["ops"] = string.Join(",", ops);
        h.Result.Notes.Add("rich: 'ack' = scheduled send of edit_message/react/unreact → the acting device's own message_updated; " +
                           "'e2e'/'deliveries' = → the other member's message_updated; lost = ops answered to the actor but not delivered to the other member");

        FrameFactory make = (s, step, n, scheduled) =>
        {
            var a = sink.Actors[s.Conn.Index]!;
            // One sender's operations are made on the open-loop thread only, so its cycle needs no lock.
            string op = ops[a.Cycle % ops.Length];
            bool add = op == "edit" || !a.Reacted;
            if (op == "react") a.Reacted = !a.Reacted;
            a.Cycle++;
            var entry = new RichOp(step.Index, scheduled, op == "edit");
            if (n < sink.Ops.Length) sink.Ops[n] = entry;
            a.Self.Enqueue(entry);
            a.Peer.Enqueue(entry);
            string tag = Tag.Make(h.Stats.RunId, step.Index, n, scheduled);
            return op == "edit" ? Conn.EditMessage(s.ChatId, a.TargetId!, tag, h.ContentBytes) : Conn.React(s.ChatId, a.TargetId!, emoji, add, tag);
        };

        async Task SeedAsync()
        {
            // every sender's target: one message of its own (edits are the sender's only); its reaction starts absent
            h.Phase = "seed";
            var sw = Stopwatch.StartNew();
            foreach (var s in senders)
                await s.Conn.SendAsync(Conn.NewMessage(s.ChatId, Tag.Make(h.Stats.RunId, RichSink.SeedStep, s.Conn.Index, Stopwatch.GetTimestamp()), h.ContentBytes));
            while (Volatile.Read(ref sink.Seeded) < senders.Count && sw.Elapsed.TotalSeconds < 60) await Task.Delay(100, h.Ct);
            int missing = senders.RemoveAll(s => sink.Actors[s.Conn.Index]!.TargetId is null);
            Console.WriteLine($"  seeded {senders.Count} target messages in {sw.Elapsed.TotalSeconds:F1} s ({missing} without an ack)");
            if (missing > senders.Count / 100) throw new InvalidOperationException($"{missing} senders got no ack for their target message; not measuring");
            // clear any earlier run's reaction of the same emoji, so that every react below changes something
            foreach (var s in senders)
                await s.Conn.SendAsync(Conn.React(s.ChatId, sink.Actors[s.Conn.Index]!.TargetId!, emoji, add: false, Tag.Make(h.Stats.RunId, RichSink.SeedStep, s.Conn.Index, 0)));
            await h.QuiesceAsync(quiet: 1.0, max: 30);
            sink.Measuring = true;
        }

        await Scenarios.RunMessagingAsync(h, "rich", conns, senders, make, allMembers: false, memberships: [], plan, SeedAsync,
            perStep: (s, sr) => sr.ByKind = sink.Summaries(s.Index),
            figures: () =>
            {
                h.Result.Figures["rev_gaps"] = Interlocked.Read(ref sink.RevGaps);
                h.Result.Figures["rev_out_of_order"] = Interlocked.Read(ref sink.RevOutOfOrder);
                h.Result.Figures["unmatched_updates"] = Interlocked.Read(ref sink.Unmatched);
            });
    }

    private static string[] ParseOps(string v)
    {
        var ops = v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (ops.Length == 0 || ops.Any(x => x is not ("edit" or "react"))) throw new UsageException("--ops: a list of edit, react");
        // a react is followed by its unreact, so that every reaction changes the message (a repeated one sends nothing)
        return ops.SelectMany(x => x == "react" ? Enumerable.Repeat(x, 2) : [x]).ToArray();
    }
}

/// <summary>One edit or (un)reaction in flight: the step it was sent in, its scheduled instant.</summary>
public sealed class RichOp(int step, long ticks, bool edit)
{
    public int Step { get; } = step;
    public long Ticks { get; } = ticks;
    public bool Edit { get; } = edit;
    public volatile bool Failed;
}

/// <summary>
/// One acting device. The server handles a device's frames in order and sends a chat's updates in rev order, so the
/// updates by this user reach each member device in the order the operations were sent: a FIFO per receiver matches
/// them. Failed operations (an error frame echoing the request_id) are skipped.
/// </summary>
public sealed class RichActor(Conn conn, string chatId)
{
    public Conn Conn { get; } = conn;
    public string ChatId { get; } = chatId;
    public string? TargetId;
    public int Cycle;
    public bool Reacted;
    public readonly ConcurrentQueue<RichOp> Self = new();
    public readonly ConcurrentQueue<RichOp> Peer = new();
}

public sealed class RichSink : IFrameSink
{
    public const int SeedStep = 999;
    private readonly RunStats _stats;
    private readonly string _run;
    private readonly long[] _lastRev;
    private readonly LongConcurrentHistogram[][] _hist; // per step: edit ack, edit delivery, react ack, react delivery
    private static readonly string[] Kinds = ["edit ack", "edit delivery", "react ack", "react delivery"];

    public RichActor?[] Actors { get; }
    public RichOp?[] Ops { get; }
    public volatile bool Measuring;
    public int Seeded;
    public long RevGaps;
    public long RevOutOfOrder;
    public long Unmatched;

    public RichSink(RunStats stats, int conns, int steps, int maxOps)
    {
        _stats = stats;
        _run = stats.RunId;
        _lastRev = new long[conns];
        Actors = new RichActor?[conns];
        Ops = new RichOp?[maxOps];
        _hist = Enumerable.Range(0, steps).Select(_ => Kinds.Select(_ => Hist.New()).ToArray()).ToArray();
    }

    public bool WantsUpdates => true;

    public void OnNewMessage(Conn c, MessageFrame f) { } // the peer's target message (acked by Conn)

    public void OnAck(Conn c, AckFrame f)
    {
        var tag = Tag.Parse(f.ClientMsgId, _run);
        if (!tag.Ours || tag.Step != SeedStep || Actors[c.Index] is not { } a || a.TargetId is not null) return;
        a.TargetId = f.MessageId;
        Interlocked.Increment(ref Seeded);
    }

    public void OnError(Conn c, ErrorFrame f)
    {
        var tag = Tag.Parse(f.RequestId, _run);
        if (!tag.Ours || tag.Step == SeedStep) return;
        if ((ulong)tag.N < (ulong)Ops.Length && Ops[tag.N] is { } op) op.Failed = true;
        if (_stats.Step(tag.Step) is { } step) Interlocked.Increment(ref step.Errors);
    }

    public void OnMessageUpdated(Conn c, MessageUpdatedFrame f)
    {
        long now = Stopwatch.GetTimestamp();
        // rev is gap-free per chat: every device sees every update of its chat (each conn is in one chat here)
        long last = _lastRev[c.Index];
        if (last != 0 && f.Rev != last + 1) Interlocked.Increment(ref f.Rev <= last ? ref RevOutOfOrder : ref RevGaps);
        _lastRev[c.Index] = f.Rev;
        if (!Measuring) return;
        bool self = string.Equals(f.By, c.User.UserId, StringComparison.Ordinal);
        var actor = self ? Actors[c.Index] : Actors[c.Index ^ 1]; // pairs are (2k, 2k + 1)
        if (actor is null || !string.Equals(actor.Conn.User.UserId, f.By, StringComparison.Ordinal))
        {
            Interlocked.Increment(ref Unmatched);
            return;
        }
        var queue = self ? actor.Self : actor.Peer;
        RichOp? op;
        while (queue.TryDequeue(out op) && op.Failed) { }
        if (op is null || op.Failed || _stats.Step(op.Step) is not { } step)
        {
            Interlocked.Increment(ref Unmatched);
            return;
        }
        long us = Hist.ElapsedUs(op.Ticks, now);
        Hist.Record(_hist[op.Step][(op.Edit ? 0 : 2) + (self ? 0 : 1)], us);
        if (self)
        {
            Interlocked.Increment(ref step.Acked);
            Interlocked.Increment(ref _stats.TotalAcked);
            Hist.Record(step.AckLatency, us);
        }
        else
        {
            Interlocked.Increment(ref step.Delivered);
            Interlocked.Increment(ref _stats.TotalDelivered);
            Hist.Record(step.E2e, us);
            Hist.Record(_stats.Interval, us);
        }
    }

    public Dictionary<string, LatencySummary> Summaries(int step)
    {
        var d = new Dictionary<string, LatencySummary>(StringComparer.Ordinal);
        for (int k = 0; k < Kinds.Length; k++)
            if (_hist[step][k].TotalCount > 0) d[Kinds[k]] = Hist.Summary(_hist[step][k]);
        return d;
    }
}
