using System.Diagnostics.Metrics;
using Chat.Core.Caching;
using Chat.Core.Diagnostics;

namespace Chat.Tests.Core;

public sealed class BoundedCacheTests
{
    [Fact]
    public void Never_holds_more_than_its_capacity_keeps_the_newest_and_counts_what_it_drops()
    {
        using var metrics = new ChatMetrics();
        long evicted = 0;
        int? gauge = null;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter == metrics.Meter && instrument.Name is "chat.cache.evictions" or "chat.cache.entries") l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            if (HasTag(tags, "test")) Interlocked.Add(ref evicted, value);
        });
        listener.SetMeasurementEventCallback<int>((_, value, tags, _) =>
        {
            if (HasTag(tags, "test")) gauge = value;
        });
        listener.Start();

        var cache = new BoundedCache<int, string>("test", 100, metrics);
        for (int i = 0; i < 1000; i++)
        {
            cache.Set(i, $"v{i}");
            Assert.InRange(cache.Count, 1, 100);
        }
        for (int i = 950; i < 1000; i++) Assert.True(cache.TryGetValue(i, out var v) && v == $"v{i}", $"recent key {i} was dropped");
        Assert.False(cache.TryGetValue(0, out _));
        Assert.Equal(1000, evicted + cache.Count); // every insertion is either still held or counted as evicted

        listener.RecordObservableInstruments();
        Assert.Equal(cache.Count, gauge);
    }

    [Fact]
    public void Removal_reaches_both_generations_and_replacing_keeps_the_newest_value()
    {
        var cache = new BoundedCache<string, string>("test", 4, comparer: StringComparer.Ordinal);
        cache.Set("a", "1");
        cache.Set("b", "2"); // the newer generation is full: a and b become the older one
        cache.Set("c", "3");
        cache.Set("c", "3'");
        Assert.True(cache.TryGetValue("a", out _));
        Assert.True(cache.TryGetValue("c", out var c) && c == "3'");

        Assert.True(cache.TryRemove("a"));
        Assert.False(cache.TryRemove("a"));
        Assert.False(cache.TryGetValue("a", out _));

        cache.RemoveWhere((key, _) => key is "b" or "c");
        Assert.False(cache.TryGetValue("b", out _));
        Assert.False(cache.TryGetValue("c", out _));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void GetOrAdd_creates_once_and_then_answers_from_the_cache()
    {
        var cache = new BoundedCache<string, object>("test", 10);
        int created = 0;
        var first = cache.GetOrAdd("k", _ => { created++; return new object(); });
        var second = cache.GetOrAdd("k", _ => { created++; return new object(); });
        Assert.Same(first, second);
        Assert.Equal(1, created);
    }

    [Fact]
    public void Stays_bounded_under_concurrent_writers()
    {
        var cache = new BoundedCache<int, int>("test", 1000);
        Parallel.For(0, 4, t =>
        {
            for (int i = 0; i < 50_000; i++) cache.Set(t * 1_000_000 + i, i);
        });
        Assert.InRange(cache.Count, 1, 1000 + 4); // a writer racing a rotation may land a few extra
    }

    private static bool HasTag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string cache)
    {
        foreach (var tag in tags)
            if (tag.Key == "cache" && (string?)tag.Value == cache) return true;
        return false;
    }
}
