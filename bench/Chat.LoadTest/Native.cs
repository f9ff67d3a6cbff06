using System.Runtime.InteropServices;

namespace Chat.LoadTest;

/// <summary>Raises RLIMIT_NOFILE so one process can hold many sockets.</summary>
public static partial class Native
{
    private const int RlimitNofile = 7;

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Cur;
        public ulong Max;
    }

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int GetRLimit(int resource, out RLimit limit);

    [LibraryImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int SetRLimit(int resource, in RLimit limit);

    /// <summary>Tries to raise the soft and hard limit to <paramref name="want"/>; falls back to soft = hard. Returns (soft, hard).</summary>
    public static (long Soft, long Hard) RaiseFileLimit(long want)
    {
        if (!OperatingSystem.IsLinux()) return (-1, -1);
        try
        {
            if (GetRLimit(RlimitNofile, out var cur) != 0) return (-1, -1);
            if (cur.Cur >= (ulong)want) return ((long)cur.Cur, (long)cur.Max);
            var up = new RLimit { Cur = (ulong)want, Max = Math.Max(cur.Max, (ulong)want) };
            if (SetRLimit(RlimitNofile, up) != 0)
            {
                up = new RLimit { Cur = Math.Min((ulong)want, cur.Max), Max = cur.Max };
                _ = SetRLimit(RlimitNofile, up);
            }
            _ = GetRLimit(RlimitNofile, out cur);
            return ((long)cur.Cur, (long)cur.Max);
        }
        catch (DllNotFoundException) { return (-1, -1); }
        catch (EntryPointNotFoundException) { return (-1, -1); }
    }
}
