using System.Collections.Concurrent;
using System.Diagnostics;
using HdrHistogram;

namespace Chat.LoadTest;

/// <summary>Latency histograms in microseconds, 1 µs .. 10 min, 3 significant digits, safe for concurrent writers.</summary>
public static class Hist
{
    public const long MaxUs = 600_000_000;

    public static LongConcurrentHistogram New() => new(1, MaxUs, 3);

    public static long ElapsedUs(long fromTicks, long nowTicks)
    {
        long d = (nowTicks - fromTicks) * 1_000_000 / Stopwatch.Frequency;
        return Math.Clamp(d, 1, MaxUs);
    }

    public static void Record(HistogramBase h, long us) => h.RecordValue(Math.Clamp(us, 1, MaxUs));

    public static double Ms(HistogramBase h, double percentile) =>
        h.TotalCount == 0 ? 0 : Math.Round(Read(() => h.GetValueAtPercentile(percentile)) / 1000.0, 3);

    public static double MaxMs(HistogramBase h) => h.TotalCount == 0 ? 0 : Math.Round(Read(h.GetMaxValue) / 1000.0, 3);

    /// <summary>
    /// HdrHistogram's iterators throw when a writer records during the walk (late deliveries after a step ended do):
    /// walk again, a bounded number of times.
    /// </summary>
    private static T Read<T>(Func<T> read)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return read();
            }
            catch (InvalidOperationException) when (attempt < 100)
            {
                Thread.Sleep(1);
            }
        }
    }

    public static LatencySummary Summary(HistogramBase h) => new()
    {
        Count = h.TotalCount,
        P50Ms = Ms(h, 50),
        P90Ms = Ms(h, 90),
        P95Ms = Ms(h, 95),
        P99Ms = Ms(h, 99),
        P999Ms = Ms(h, 99.9),
        MaxMs = MaxMs(h),
        MeanMs = h.TotalCount == 0 ? 0 : Math.Round(Read(h.GetMean) / 1000.0, 3),
    };
}

public sealed class LatencySummary
{
    public long Count { get; set; }
    public double P50Ms { get; set; }
    public double P90Ms { get; set; }
    public double P95Ms { get; set; }
    public double P99Ms { get; set; }
    public double P999Ms { get; set; }
    public double MaxMs { get; set; }
    public double MeanMs { get; set; }
}

/// <summary>Counters and histograms of one load step (messages are attributed to the step they were sent in).</summary>
public sealed class StepStats
{
    public required int Index { get; init; }
    public required string Name { get; init; }
    public required double TargetRate { get; init; }
    public bool Warmup { get; init; }
    public long StartTicks;
    public long EndTicks;
    public long Sent;
    public long SendFailed;
    public long Acked;
    public long Errors;
    public long Delivered;      // first-time deliveries of this step's messages
    public long Duplicates;     // the same (chat, seq) delivered again to a device
    public readonly LongConcurrentHistogram E2e = Hist.New();
    public readonly LongConcurrentHistogram AckLatency = Hist.New();
    public readonly LongConcurrentHistogram AllMembers = Hist.New(); // group: send → last member received

    public double Seconds => EndTicks <= StartTicks ? 0 : (EndTicks - StartTicks) / (double)Stopwatch.Frequency;
}

/// <summary>Run-wide counters shared by every connection.</summary>
public sealed class RunStats
{
    public string RunId { get; } = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray())[..6];
    public List<StepStats> Steps { get; } = [];
    public long TotalSent;
    public long TotalAcked;
    public long TotalDelivered;
    public long StaleDelivered;     // messages of other runs (backlog), acked and ignored
    public long Disconnects;
    public long Reconnects;
    public long ConnectFailures;
    public long EchoToSender;       // a device received its own message (should not happen)
    public long Received;           // all frames
    public readonly ConcurrentDictionary<string, long> ErrorCodes = new(StringComparer.Ordinal);
    public readonly ConcurrentDictionary<string, long> CloseCodes = new(StringComparer.Ordinal);
    public readonly ConcurrentDictionary<string, long> FrameTypes = new(StringComparer.Ordinal);
    public LongConcurrentHistogram ConnectLatency = Hist.New(); // swapped by scenarios that time one connect wave
    public readonly LongConcurrentHistogram HeartbeatRtt = Hist.New();
    private LongConcurrentHistogram _interval = Hist.New();

    public LongConcurrentHistogram Interval => Volatile.Read(ref _interval);

    /// <summary>Swap the per-second e2e histogram (a few records racing the swap are lost for the live display only).</summary>
    public LongConcurrentHistogram TakeInterval() => Interlocked.Exchange(ref _interval, Hist.New());

    public StepStats? Step(int index) => (uint)index < (uint)Steps.Count ? Steps[index] : null;

    public static void Count(ConcurrentDictionary<string, long> d, string key) => d.AddOrUpdate(key, 1, (_, v) => v + 1);
}

/// <summary>Which seqs of one chat a device has seen (1 bit per seq, sliding base): duplicates and holes.</summary>
public sealed class SeqBits
{
    private long _base = -1;
    private ulong[] _bits = [];
    public long MaxSeen { get; private set; }

    /// <summary>Lowest/highest seq this device got an ack for (its own messages of this run).</summary>
    public long AckMin { get; private set; } = long.MaxValue;
    public long AckMax { get; private set; }

    public void Acked(long seq)
    {
        if (seq < AckMin) AckMin = seq;
        if (seq > AckMax) AckMax = seq;
        Mark(seq);
    }

    /// <summary>Returns true when the seq is new for this device.</summary>
    public bool Mark(long seq)
    {
        if (seq <= 0) return true;
        if (_base < 0)
        {
            _base = Math.Max(1, seq - 4096) & ~63L;
            _bits = new ulong[128];
        }
        if (seq < _base)
        {
            long nb = Math.Max(0, seq - 4096) & ~63L;
            int shiftWords = (int)((_base - nb) / 64);
            var n = new ulong[_bits.Length + shiftWords];
            Array.Copy(_bits, 0, n, shiftWords, _bits.Length);
            _bits = n;
            _base = nb;
        }
        long off = seq - _base;
        int word = (int)(off >> 6);
        if (word >= _bits.Length)
        {
            if (word > 64_000_000) return true; // 4 G seqs: give up tracking rather than allocate without bound
            Array.Resize(ref _bits, Math.Max(word + 1, _bits.Length * 2));
        }
        ulong mask = 1UL << (int)(off & 63);
        if (MaxSeen < seq) MaxSeen = seq;
        if ((_bits[word] & mask) != 0) return false;
        _bits[word] |= mask;
        return true;
    }

    public bool Has(long seq)
    {
        if (_base < 0 || seq < _base) return false;
        long off = seq - _base;
        int word = (int)(off >> 6);
        return word < _bits.Length && (_bits[word] & (1UL << (int)(off & 63))) != 0;
    }

    /// <summary>Seqs in [from, to] this device never saw.</summary>
    public long Missing(long from, long to)
    {
        long missing = 0;
        for (long s = from; s <= to; s++) if (!Has(s)) missing++;
        return missing;
    }
}

/// <summary>The per-message tag carried in client_msg_id and at the start of content: "{run}.{step}.{n}.{ticks}".</summary>
public readonly record struct Tag(bool Ours, int Step, long N, long Ticks)
{
    public static string Make(string run, int step, long n, long ticks) => $"{run}.{step}.{n}.{ticks}";

    public static Tag Parse(string? text, string run)
    {
        ReadOnlySpan<char> s = text;
        if (s.Length < run.Length + 6 || !s.StartsWith(run, StringComparison.Ordinal) || s[run.Length] != '.') return default;
        s = s[(run.Length + 1)..];
        if (!Next(ref s, out long step) || !Next(ref s, out long n) || !Next(ref s, out long ticks)) return default;
        return new Tag(true, (int)step, n, ticks);
    }

    private static bool Next(ref ReadOnlySpan<char> s, out long v)
    {
        v = 0;
        int i = 0;
        while (i < s.Length && char.IsAsciiDigit(s[i]) && i < 19) { v = v * 10 + (s[i] - '0'); i++; }
        if (i == 0) return false;
        s = i < s.Length ? s[(i + 1)..] : [];
        return true;
    }
}
