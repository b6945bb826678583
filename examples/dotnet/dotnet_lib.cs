// dotnet_lib.cs -- example C# library for bitbridge's .NET example.
// Compile for a 32-bit process with Mono's compiler:
//   mcs -target:library -platform:x86 -out:dotnet_lib32.dll dotnet_lib.cs
using System;

namespace DotNetMSL
{
    // Instance methods on simple numeric types.
    public class BasicMath
    {
        public int add_integers(int a, int b)
        {
            return a + b;
        }

        public float divide_floats(float a, float b)
        {
            return a / b;
        }

        public double multiply_doubles(double a, double b)
        {
            return a * b;
        }

        public double add_or_subtract(double a, double b, bool do_addition)
        {
            return do_addition ? a + b : a - b;
        }
    }

    // Instance methods taking and returning 1-D and 2-D arrays.
    public class ArrayManipulation
    {
        public double[] scalar_multiply(double a, double[] xin)
        {
            double[] result = new double[xin.Length];
            for (int i = 0; i < xin.Length; i++)
            {
                result[i] = xin[i] * a;
            }
            return result;
        }

        // Matrix product A (n x m) times B (m x p). Throws ArgumentException
        // when the inner dimensions differ.
        public double[,] multiply_matrices(double[,] A, double[,] B)
        {
            int n = A.GetLength(0);
            int m = A.GetLength(1);
            int p = B.GetLength(1);
            if (B.GetLength(0) != m)
            {
                throw new ArgumentException(String.Format(
                    "cannot multiply a {0}x{1} matrix by a {2}x{3} matrix",
                    n, m, B.GetLength(0), p));
            }
            double[,] C = new double[n, p];
            for (int row = 0; row < n; row++)
            {
                for (int col = 0; col < p; col++)
                {
                    double sum = 0.0;
                    for (int k = 0; k < m; k++)
                    {
                        sum += A[row, k] * B[k, col];
                    }
                    C[row, col] = sum;
                }
            }
            return C;
        }
    }
}

// A class outside any namespace.
public class StringManipulation
{
    public string reverse_string(string original)
    {
        char[] chars = original.ToCharArray();
        Array.Reverse(chars);
        return new string(chars);
    }
}

// A static class with static methods.
public static class StaticClass
{
    public static int add_multiple(int a, int b, int c, int d, int e)
    {
        return a + b + c + d + e;
    }

    public static string concatenate(string a, string b, string c, bool d, string e)
    {
        string joined = a + b + c;
        if (d)
        {
            joined += e;
        }
        return joined;
    }
}
