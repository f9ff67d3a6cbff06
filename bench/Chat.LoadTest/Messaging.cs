using System.Diagnostics;
using System.Runtime.InteropServices;
using Chat.Protocol;

namespace Chat.LoadTest;

/// <summary>One sender: a socket and the chat it writes to.</summary>
public sealed record Sender(Conn Conn, string ChatId, int Recipients);

/// <summary>Counts acks/deliveries for direct and group runs, attributing each message to the step it was sent in.</summary>
public sealed class MessagingSink(RunStats stats) : IFrameSink
{
    private readonly string _run = stats.RunId;

    /// <summary>Group mode: per message number, members still to receive it (0 = everyone has it).</summary>
    public int[]? Remaining { get; set; }

    public void OnNewMessage(Conn c, MessageFrame f)
    {
        var tag = Tag.Parse(f.Content, _run);
        if (!tag.Ours) tag = Tag.Parse(f.ClientMsgId, _run);
        if (!tag.Ours)
        {
            Interlocked.Increment(ref stats.StaleDelivered);
            return;
        }
        long now = Stopwatch.GetTimestamp();
        if (string.Equals(f.From, c.User.UserId, StringComparison.Ordinal)) Interlocked.Increment(ref stats.EchoToSender);
        var step = stats.Step(tag.Step);
        if (step is null) return;
        if (!Track(c, f.ChatId).Mark(f.Seq))
        {
            Interlocked.Increment(ref step.Duplicates);
            return;
        }
        Interlocked.Increment(ref step.Delivered);
        Interlocked.Increment(ref stats.TotalDelivered);
        long us = Hist.ElapsedUs(tag.Ticks, now);
        Hist.Record(step.E2e, us);
        Hist.Record(stats.Interval, us);
        var rem = Remaining;
        if (rem is not null && (ulong)tag.N < (ulong)rem.Length && Interlocked.Decrement(ref rem[tag.N]) == 0)
            Hist.Record(step.AllMembers, us);
    }

    public void OnAck(Conn c, AckFrame f)
    {
        var tag = Tag.Parse(f.ClientMsgId, _run);
        if (!tag.Ours) return;
        var step = stats.Step(tag.Step);
        if (step is null) return;
        Interlocked.Increment(ref step.Acked);
        Interlocked.Increment(ref stats.TotalAcked);
        Hist.Record(step.AckLatency, Hist.ElapsedUs(tag.Ticks, Stopwatch.GetTimestamp()));
        Track(c, f.ChatId).Acked(f.Seq);
    }

    public void OnError(Conn c, ErrorFrame f)
    {
        var tag = Tag.Parse(f.ClientMsgId, _run);
        if (tag.Ours && stats.Step(tag.Step) is { } step) Interlocked.Increment(ref step.Errors);
    }

    public static SeqBits Track(Conn c, string chatId)
    {
        ref var bits = ref CollectionsMarshal.GetValueRefOrAddDefault(c.Chats, chatId, out _);
        return bits ??= new SeqBits();
    }

    /// <summary>After the drain: how many (device, seq) pairs a member never received, over the seq ranges acked in this run.</summary>
    public static long CountMissing(IReadOnlyList<(Conn Conn, string ChatId)> memberships)
    {
        // the seq range of this run per chat = union of what its senders got acks for
        var ranges = new Dictionary<string, (long Min, long Max)>(StringComparer.Ordinal);
        foreach (var (conn, chat) in memberships)
        {
            if (!conn.Chats.TryGetValue(chat, out var bits) || bits.AckMax == 0) continue;
            var r = ranges.TryGetValue(chat, out var x) ? x : (long.MaxValue, 0L);
            ranges[chat] = (Math.Min(r.Item1, bits.AckMin), Math.Max(r.Item2, bits.AckMax));
        }
        long missing = 0;
        foreach (var (conn, chat) in memberships)
        {
            if (!ranges.TryGetValue(chat, out var r)) continue;
            if (!conn.Chats.TryGetValue(chat, out var bits)) { missing += r.Max - r.Min + 1; continue; }
            missing += bits.Missing(r.Min, r.Max);
        }
        return missing;
    }
}

/// <summary>Builds the frame a sender sends for message <c>n</c> of a step, scheduled at <c>scheduled</c> (Stopwatch ticks).</summary>
public delegate byte[] FrameFactory(Sender sender, StepStats step, long n, long scheduled);

/// <summary>Open-loop generator: sends at the scheduled instants whatever the server's replies, on a dedicated thread.</summary>
public sealed class OpenLoop(Harness h, IReadOnlyList<Sender> senders, FrameFactory makeFrame)
{
    /// <summary>The direct/group frame: a tagged new_message; group runs also note how many members must receive it.</summary>
    public static FrameFactory NewMessages(Harness h, MessagingSink sink) => (s, step, n, scheduled) =>
    {
        var rem = sink.Remaining;
        if (rem is not null && n < rem.Length) rem[n] = s.Recipients;
        return Conn.NewMessage(s.ChatId, Tag.Make(h.Stats.RunId, step.Index, n, scheduled), h.ContentBytes);
    };

    private long _n;
    private volatile bool _stop;

    public void Stop() => _stop = true;

    /// <summary>Runs every step in order; <paramref name="shouldStop"/> is asked after each measured step.</summary>
    public Task RunAsync(IReadOnlyList<StepStats> steps, IReadOnlyList<double> seconds, Func<StepStats, bool> shouldStop, CancellationToken ct)
    {
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var t = new Thread(() =>
        {
            try { Run(steps, seconds, shouldStop, ct); tcs.SetResult(); }
            catch (Exception e) { tcs.SetException(e); }
        })
        { IsBackground = true, Name = "open-loop", Priority = ThreadPriority.AboveNormal };
        t.Start();
        return tcs.Task;
    }

    private void Run(IReadOnlyList<StepStats> steps, IReadOnlyList<double> seconds, Func<StepStats, bool> shouldStop, CancellationToken ct)
    {
        var stats = h.Stats;
        long freq = Stopwatch.Frequency;
        int rr = 0;
        for (int k = 0; k < steps.Count && !_stop && !ct.IsCancellationRequested; k++)
        {
            var step = steps[k];
            h.Phase = step.Name;
            double rate = step.TargetRate;
            long start = Stopwatch.GetTimestamp();
            long end = start + (long)(seconds[k] * freq);
            step.StartTicks = start;
            long issued = 0;
            long maxIssue = (long)(rate * seconds[k]) + 1;
            int maxBurst = Math.Max(1, (int)(rate / 20)); // never more than 50 ms of messages in one go
            for (long loops = 0; loops < 100_000_000; loops++)
            {
                long now = Stopwatch.GetTimestamp();
                if (now >= end || _stop || ct.IsCancellationRequested) break;
                // Message k is scheduled at start + k / rate, so k + 1 messages are due once that instant has come
                // (without the + 1 every message left one interval late: +50 ms on every latency at 20 msg/s).
                long due = Math.Min(maxIssue, (long)((now - start) / (double)freq * rate) + 1);
                int burst = 0;
                while (issued < due && burst < maxBurst)
                {
                    long scheduled = start + (long)(issued * (double)freq / rate);
                    var s = senders[rr];
                    rr = rr + 1 == senders.Count ? 0 : rr + 1;
                    long n = Interlocked.Increment(ref _n) - 1;
                    byte[] frame = makeFrame(s, step, n, scheduled);
                    Interlocked.Increment(ref step.Sent);
                    Interlocked.Increment(ref stats.TotalSent);
                    var vt = s.Conn.SendAsync(frame);
                    if (vt.IsCompletedSuccessfully) { if (!vt.Result) Interlocked.Increment(ref step.SendFailed); }
                    else _ = Observe(vt, step);
                    issued++;
                    burst++;
                }
                if (issued >= due) Thread.Sleep(1);
            }
            step.EndTicks = Stopwatch.GetTimestamp();
            if (!step.Warmup && shouldStop(step)) break;
        }
    }

    private static async Task Observe(ValueTask<bool> vt, StepStats step)
    {
        if (!await vt) Interlocked.Increment(ref step.SendFailed);
    }
}
