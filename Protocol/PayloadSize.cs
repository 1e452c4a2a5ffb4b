namespace NasActors.Protocol;

/// <summary>
/// The buffer to take for the next payload of one kind, from the lengths of the ones before: an
/// eighth more than the last, so that a payload that grows a little fits without a doubled
/// buffer; the last length exactly once two in a row were equal (a fixed-size payload: the
/// buffer can then be the payload, with no copy). A hint only: calls from several threads at
/// once may see a stale one.
/// </summary>
public sealed class PayloadSize(int initial = 4096)
{
    private int last = initial;
    private bool fixedSize;

    public int Next => fixedSize ? last : last + last / 8;

    public void Saw(int length)
    {
        fixedSize = length == last;
        last = length;
    }
}
