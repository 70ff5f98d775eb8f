namespace EventSourced.Dicom.Imaging;

/// <summary>
/// Downscaling by area averaging: each output pixel is the mean of the source area it covers, partial
/// pixels weighted by their covered fraction (a box filter exact for any ratio). Separable: rows, then columns.
/// </summary>
public static class ImageResizer
{
    /// <summary>Fits <paramref name="image"/> inside maxWidth × maxHeight keeping the aspect ratio; returns it unchanged when it already fits.</summary>
    public static RenderedImage Fit(RenderedImage image, int? maxWidth, int? maxHeight)
    {
        ArgumentNullException.ThrowIfNull(image);
        var (w, h) = FitSize(image.Width, image.Height, maxWidth, maxHeight);
        return w == image.Width && h == image.Height ? image : Resize(image, w, h);
    }

    /// <summary>Output size for a fit: scale = min(maxW/W, maxH/H, 1), sides rounded to nearest, at least 1.</summary>
    public static (int Width, int Height) FitSize(int width, int height, int? maxWidth, int? maxHeight)
    {
        var scale = Math.Min(maxWidth is { } mw ? (double)mw / width : 1, maxHeight is { } mh ? (double)mh / height : 1);
        if (scale >= 1)
        {
            return (width, height);
        }
        var w = Math.Clamp((int)Math.Round(width * scale), 1, maxWidth ?? int.MaxValue);
        var h = Math.Clamp((int)Math.Round(height * scale), 1, maxHeight ?? int.MaxValue);
        return (w, h);
    }

    /// <summary>Area-average resampling to exactly <paramref name="width"/> × <paramref name="height"/> (meant for reduction).</summary>
    public static RenderedImage Resize(RenderedImage image, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        var c = image.Components;
        var xs = Weights(image.Width, width);
        var ys = Weights(image.Height, height);
        // Horizontal pass into floats (source rows × output columns), then vertical.
        var tmp = new float[image.Height * width * c];
        var src = image.Pixels;
        for (var y = 0; y < image.Height; y++)
        {
            var row = y * image.Width * c;
            for (var x = 0; x < width; x++)
            {
                var (first, weights) = xs[x];
                for (var k = 0; k < c; k++)
                {
                    float sum = 0;
                    for (var j = 0; j < weights.Length; j++)
                    {
                        sum += weights[j] * src[row + (first + j) * c + k];
                    }
                    tmp[(y * width + x) * c + k] = sum;
                }
            }
        }
        var dst = new byte[width * height * c];
        for (var y = 0; y < height; y++)
        {
            var (first, weights) = ys[y];
            for (var x = 0; x < width * c; x++)
            {
                float sum = 0;
                for (var j = 0; j < weights.Length; j++)
                {
                    sum += weights[j] * tmp[(first + j) * width * c + x];
                }
                dst[y * width * c + x] = (byte)Math.Clamp((int)MathF.Round(sum, MidpointRounding.AwayFromZero), 0, 255);
            }
        }
        return new RenderedImage(width, height, c, dst);
    }

    /// <summary>For each output index: the first source index and the normalised coverage of each source pixel from there.</summary>
    private static (int First, float[] Weights)[] Weights(int from, int to)
    {
        var result = new (int, float[])[to];
        var scale = (double)from / to;
        for (var i = 0; i < to; i++)
        {
            var start = i * scale;
            var end = Math.Min(from, (i + 1) * scale);
            if (scale <= 1)
            {
                // Enlarging (not used by Fit): nearest source pixel.
                result[i] = (Math.Min(from - 1, (int)((i + 0.5) * scale)), [1f]);
                continue;
            }
            var first = (int)Math.Floor(start);
            var last = Math.Min(from - 1, (int)Math.Ceiling(end) - 1);
            var weights = new float[last - first + 1];
            for (var j = first; j <= last; j++)
            {
                var cover = Math.Min(end, j + 1) - Math.Max(start, j);
                weights[j - first] = (float)(Math.Max(0, cover) / (end - start));
            }
            result[i] = (first, weights);
        }
        return result;
    }
}
