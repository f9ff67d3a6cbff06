using System.Collections.Concurrent;
using Chat.Core.Diagnostics;

namespace Chat.Core.Caching;

/// <summary>
/// A concurrent map that never holds more than a configured number of entries (Chat:Caches, docs/configuration.md).
/// Two generations: new entries go into the newer one; when it holds half the capacity, the older generation is
/// dropped whole and the newer one takes its place. The hot path does no per-entry bookkeeping (no LRU list, no
/// timestamps), and an entry lives at least capacity/2 insertions — unlike "Clear() when over N", which forgot
/// every entry at once. Size and evictions are reported through <see cref="ChatMetrics"/> under the cache's name.
/// </summary>
/// <remarks>Everything cached here can be re-read from its source: an evicted entry costs a lookup, never correctness.</remarks>
public sealed class BoundedCache<TKey, TValue> where TKey : notnull
{
    private sealed class Generation(IEqualityComparer<TKey>? comparer)
    {
        public readonly ConcurrentDictionary<TKey, TValue> Map = new(comparer);
        // Counted here: ConcurrentDictionary.Count takes every bucket lock, too costly once per insertion.
        public int Count;
    }

    private readonly IEqualityComparer<TKey>? _comparer;
    private readonly int _generationSize;
    private readonly ChatMetrics? _metrics;
    private readonly Lock _rotating = new();
    private Generation _current;
    private Generation _previous;

    /// <param name="name">The cache's name in the metrics (the <c>cache</c> tag).</param>
    /// <param name="capacity">Most entries held at once (at least 2).</param>
    public BoundedCache(string name, int capacity, ChatMetrics? metrics = null, IEqualityComparer<TKey>? comparer = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 2);
        Name = name;
        Capacity = capacity;
        _generationSize = capacity / 2;
        _comparer = comparer;
        _current = new Generation(comparer);
        _previous = new Generation(comparer);
        _metrics = metrics;
        metrics?.ObserveCache(name, () => Count);
    }

    public string Name { get; }
    public int Capacity { get; }

    /// <summary>Entries held now (approximate while writers race; never more than <see cref="Capacity"/> plus those races).</summary>
    public int Count => Math.Max(0, Volatile.Read(ref _current.Count)) + Math.Max(0, Volatile.Read(ref _previous.Count));

    public bool TryGetValue(TKey key, out TValue value) =>
        Volatile.Read(ref _current).Map.TryGetValue(key, out value!) || Volatile.Read(ref _previous).Map.TryGetValue(key, out value!);

    /// <summary>Adds or replaces the entry.</summary>
    public void Set(TKey key, TValue value)
    {
        var current = Volatile.Read(ref _current);
        if (current.Map.TryAdd(key, value)) Added(current);
        else current.Map[key] = value;
    }

    /// <summary>The cached value, or the one <paramref name="create"/> makes (which is then cached).</summary>
    public TValue GetOrAdd(TKey key, Func<TKey, TValue> create)
    {
        if (TryGetValue(key, out var found)) return found;
        var current = Volatile.Read(ref _current);
        var created = create(key);
        if (current.Map.TryAdd(key, created))
        {
            Added(current);
            return created;
        }
        return current.Map.TryGetValue(key, out found) ? found : created;
    }

    public bool TryRemove(TKey key)
    {
        bool removed = Remove(Volatile.Read(ref _current), key);
        return Remove(Volatile.Read(ref _previous), key) || removed;
    }

    /// <summary>Drops every entry the predicate matches (a scan: for rare events such as a revoked device).</summary>
    public void RemoveWhere(Func<TKey, TValue, bool> match)
    {
        foreach (var generation in new[] { Volatile.Read(ref _current), Volatile.Read(ref _previous) })
            foreach (var (key, value) in generation.Map)
                if (match(key, value)) Remove(generation, key);
    }

    /// <summary>Forgets everything (the source changed wholesale, e.g. a Redis failover).</summary>
    public void Clear()
    {
        lock (_rotating)
        {
            Volatile.Write(ref _previous, new Generation(_comparer));
            Volatile.Write(ref _current, new Generation(_comparer));
        }
    }

    private static bool Remove(Generation generation, TKey key)
    {
        if (!generation.Map.TryRemove(key, out _)) return false;
        Interlocked.Decrement(ref generation.Count);
        return true;
    }

    private void Added(Generation current)
    {
        if (Interlocked.Increment(ref current.Count) < _generationSize) return;
        lock (_rotating)
        {
            if (!ReferenceEquals(_current, current)) return; // another writer rotated already
            int dropped = Math.Max(0, Volatile.Read(ref _previous.Count));
            Volatile.Write(ref _previous, current);
            Volatile.Write(ref _current, new Generation(_comparer));
            if (dropped > 0) _metrics?.CacheEvictions.Add(dropped, new KeyValuePair<string, object?>("cache", Name));
        }
    }
}
