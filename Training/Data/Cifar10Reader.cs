namespace NasActors.Training.Data;

/// <summary>CIFAR-10's binary version: records of 1 label byte and 3 x 32 x 32 pixel bytes.</summary>
public static class Cifar10Reader
{
    public const int RecordBytes = 1 + 3 * 32 * 32;
    public static readonly string[] TrainFiles = ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"];
    public const string TestFile = "test_batch.bin";

    /// <summary>The classes in label order (batches.meta.txt).</summary>
    public static readonly string[] ClassNames = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    public static ImageDataset Read(IEnumerable<string> files, string name)
    {
        var pixels = new MemoryStream();
        var labels = new MemoryStream();
        foreach (var file in files)
        {
            byte[] data;
            try
            {
                data = File.ReadAllBytes(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new DatasetFormatException(file, $"cannot read: {e.Message}");
            }
            if (data.Length == 0 || data.Length % RecordBytes != 0)
                throw new DatasetFormatException(file,
                    $"wrong size: {data.Length} bytes is not a whole number of {RecordBytes}-byte records (truncated or not CIFAR-10 binary)");
            for (var offset = 0; offset < data.Length; offset += RecordBytes)
            {
                if (data[offset] > 9)
                    throw new DatasetFormatException(file, $"record {offset / RecordBytes} has label {data[offset]}, CIFAR-10 labels are 0..9");
                labels.WriteByte(data[offset]);
                pixels.Write(data, offset + 1, RecordBytes - 1);
            }
        }
        return new ImageDataset(name, 3, 32, 32, 10, pixels.ToArray(), [.. labels.ToArray().Select(l => (ushort)l)], ClassNames);
    }
}
