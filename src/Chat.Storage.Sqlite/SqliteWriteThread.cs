using System.Threading.Channels;
using Chat.Core.Storage;
using Microsoft.Data.Sqlite;

namespace Chat.Storage.Sqlite;

/// <summary>
/// The one thread that runs every write transaction. SQLite has a single writer anyway; running it on its own thread
/// keeps its blocking fsyncs off the thread pool (on 2 cores the pool has 2 threads, and a blocked one delays every
/// socket), and state that only the writer touches (seq and chat caches) needs no lock. Every write passes here, so
/// this is where a full disk is noticed (SQLITE_FULL becomes <see cref="StorageFullException"/>) and where the next
/// successful write clears it.
/// </summary>
internal sealed class SqliteWriteThread : IDisposable
{
    private readonly Channel<IWork> _queue = Channel.CreateBounded<IWork>(new BoundedChannelOptions(4096) { SingleReader = true });
    private readonly Thread _thread;

    public StorageSpace Space { get; } = new();

    public SqliteWriteThread(string name)
    {
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>Runs <paramref name="work"/> on the write thread; its result or exception comes back on the pool.</summary>
    public async Task<T> RunAsync<T>(Func<T> work, CancellationToken ct)
    {
        var item = new Work<T>(work, Space);
        await _queue.Writer.WriteAsync(item, ct);
        return await item.Task;
    }

    private void Run()
    {
        var reader = _queue.Reader;
        while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
            while (reader.TryRead(out var item)) item.Execute();
    }

    /// <summary>Finishes what is queued, then stops the thread.</summary>
    public void Dispose()
    {
        _queue.Writer.TryComplete();
        if (Thread.CurrentThread != _thread) _thread.Join();
    }

    private interface IWork
    {
        void Execute();
    }

    private sealed class Work<T>(Func<T> work, StorageSpace space) : TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously), IWork
    {
        private const int SqliteFull = 13; // SQLITE_FULL: the disk, or PRAGMA max_page_count, is full

        public void Execute()
        {
            try
            {
                var result = work();
                space.Written();
                SetResult(result);
            }
            catch (Exception ex) when (ex is SqliteException { SqliteErrorCode: SqliteFull } || StorageSpace.IsDiskFull(ex))
            {
                space.Failed();
                SetException(new StorageFullException("database", ex));
            }
            catch (Exception ex)
            {
                SetException(ex);
            }
        }
    }
}
