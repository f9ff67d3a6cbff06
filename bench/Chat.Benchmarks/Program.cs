using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

// Micro-benchmarks without sockets (the load tool, bench/Chat.LoadTest, is the other half of the evidence):
//   dotnet run -c Release --project bench/Chat.Benchmarks -- --filter '*' --job short --inProcess
// Any BenchmarkDotNet option works (--filter '*FanOut*', --list flat, --job default for the full statistics;
// without --inProcess each benchmark runs in its own generated process, which first needs a build of its own).
// Artifacts (reports, logs) go under bin/, which git ignores.
var config = DefaultConfig.Instance.WithArtifactsPath(Path.Combine(AppContext.BaseDirectory, "BenchmarkDotNet.Artifacts"));
BenchmarkSwitcher.FromAssembly(typeof(Chat.Benchmarks.FrameBenchmarks).Assembly).Run(args, config);
