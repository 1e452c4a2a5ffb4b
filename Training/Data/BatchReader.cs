using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using NasActors.Tensors;
using static TorchSharp.torch;

namespace NasActors.Training.Data;

/// <summary>
/// An epoch's batches of a streamed split (<see cref="ImageDataset.Streamed"/>), read from its
/// records on a thread of its own, at most <see cref="Ahead"/> batches ahead of training: uint8
/// images (N x C x H x W) and int64 labels on the CPU, in pinned memory for a CUDA device so that
/// the copy to it is asynchronous. Memory held: the batches ahead, whatever the split's size.
/// </summary>
public sealed class BatchReader : IDisposable
{
    /// <summary>Batches read ahead of the one training takes.</summary>
    public const int Ahead = 4;

    private readonly BlockingCollection<(Tensor Images, Tensor Labels)> ready = new(Ahead);
    private readonly CancellationTokenSource stop = new();
    private readonly Thread thread;
    private Exception? failure;

    public BatchReader(ImageDataset data, int[] order, int batchSize, bool pinned)
    {
        thread = new Thread(() => Read(data, order, batchSize, pinned)) { IsBackground = true, Name = "nas batch reader" };
        thread.Start();
    }

    private void Read(ImageDataset data, int[] order, int batchSize, bool pinned)
    {
        using var native = NativeWork.Enter();
        try
        {
            for (var start = 0; start < order.Length && !stop.IsCancellationRequested; start += batchSize)
            {
                var which = order.AsSpan(start, Math.Min(batchSize, order.Length - start));
                var labels = new long[which.Length];
                for (var i = 0; i < which.Length; i++) labels[i] = data.Labels[which[i]];
                // Read straight into the tensor's own (native) memory: no managed copy of a batch to collect.
                var images = empty([which.Length, data.Channels, data.Height, data.Width], uint8);
                try
                {
                    data.ReadImages(which, images.bytes);
                    if (pinned)
                    {
                        using var pageable = images;
                        images = pageable.pin_memory();
                    }
                }
                catch
                {
                    images.Dispose();
                    throw;
                }
                var batch = (images, from_array(labels));
                try
                {
                    ready.Add(batch, stop.Token);
                }
                catch (OperationCanceledException)
                {
                    batch.images.Dispose();
                    batch.Item2.Dispose();
                    return;
                }
            }
        }
        catch (Exception e)
        {
            failure = e;
        }
        finally
        {
            ready.CompleteAdding();
        }
    }

    /// <summary>The batches in order; a read that failed (a file gone, cut short) is thrown here, on the training thread.</summary>
    public IEnumerable<(Tensor Images, Tensor Labels)> Batches()
    {
        foreach (var batch in ready.GetConsumingEnumerable())
            yield return batch;
        if (failure is not null) ExceptionDispatchInfo.Throw(failure);
    }

    public void Dispose()
    {
        stop.Cancel();
        thread.Join();
        while (ready.TryTake(out var left))
        {
            left.Images.Dispose();
            left.Labels.Dispose();
        }
        ready.Dispose();
        stop.Dispose();
    }
}
