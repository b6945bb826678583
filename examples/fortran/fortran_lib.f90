! fortran_lib.f90: the FORTRAN example library of bitbridge.
!
! The same functions as msl-loadlib's FORTRAN example. Every procedure has a bind(c)
! name, so the exported symbols are plain ("sum_8bit", not "sum_8bit_"), and every
! argument is passed by reference, as FORTRAN does by default.
!
! Built by `make examples` (32-bit, runtime linked in statically):
!   gfortran -m32 -shared -fPIC -O2 -static-libgfortran -static-libgcc \
!       -o examples/fortran/fortran_lib32.so examples/fortran/fortran_lib.f90
!
! The procedures are external ones, not a module's, so that compiling writes no .mod file.

! The sum of two 8-bit signed integers; it wraps around on overflow.
function sum_8bit(a, b) result(total) bind(c, name="sum_8bit")
    use, intrinsic :: iso_c_binding
    implicit none
    integer(c_int8_t), intent(in) :: a, b
    integer(c_int8_t) :: total
    total = int(int(a) + int(b), c_int8_t)  ! keeps the low 8 bits
end function sum_8bit

! The sum of two 16-bit signed integers; it wraps around on overflow.
function sum_16bit(a, b) result(total) bind(c, name="sum_16bit")
    use, intrinsic :: iso_c_binding
    implicit none
    integer(c_int16_t), intent(in) :: a, b
    integer(c_int16_t) :: total
    total = int(int(a) + int(b), c_int16_t)  ! keeps the low 16 bits
end function sum_16bit

! The sum of two 32-bit signed integers.
function sum_32bit(a, b) result(total) bind(c, name="sum_32bit")
    use, intrinsic :: iso_c_binding
    implicit none
    integer(c_int32_t), intent(in) :: a, b
    integer(c_int32_t) :: total
    total = a + b
end function sum_32bit

! The sum of two 64-bit signed integers.
function sum_64bit(a, b) result(total) bind(c, name="sum_64bit")
    use, intrinsic :: iso_c_binding
    implicit none
    integer(c_int64_t), intent(in) :: a, b
    integer(c_int64_t) :: total
    total = a + b
end function sum_64bit

! The product of two single-precision numbers.
function multiply_float32(a, b) result(product_) bind(c, name="multiply_float32")
    use, intrinsic :: iso_c_binding
    implicit none
    real(c_float), intent(in) :: a, b
    real(c_float) :: product_
    product_ = a * b
end function multiply_float32

! The product of two double-precision numbers.
function multiply_float64(a, b) result(product_) bind(c, name="multiply_float64")
    use, intrinsic :: iso_c_binding
    implicit none
    real(c_double), intent(in) :: a, b
    real(c_double) :: product_
    product_ = a * b
end function multiply_float64

! Whether a > 0.
function is_positive(a) result(positive) bind(c, name="is_positive")
    use, intrinsic :: iso_c_binding
    implicit none
    real(c_double), intent(in) :: a
    logical(c_bool) :: positive
    positive = logical(a > 0.0_c_double, c_bool)
end function is_positive

! a + b when do_addition is true, else a - b.
function add_or_subtract(a, b, do_addition) result(answer) bind(c, name="add_or_subtract")
    use, intrinsic :: iso_c_binding
    implicit none
    integer(c_int32_t), intent(in) :: a, b
    logical(c_bool), intent(in) :: do_addition
    integer(c_int32_t) :: answer
    if (do_addition) then
        answer = a + b
    else
        answer = a - b
    end if
end function add_or_subtract

! n! in double precision, for an 8-bit n; 0 when n is negative.
function factorial(n) result(answer) bind(c, name="factorial")
    use, intrinsic :: iso_c_binding
    implicit none
    integer(c_int8_t), intent(in) :: n
    real(c_double) :: answer
    integer :: i
    answer = 0.0_c_double
    if (n < 0) return
    answer = 1.0_c_double
    do i = 2, n
        answer = answer * i
    end do
end function factorial

! The sample standard deviation (n - 1 in the denominator) of the n values in a.
function standard_deviation(a, n) result(sd) bind(c, name="standard_deviation")
    use, intrinsic :: iso_c_binding
    implicit none
    integer(c_int32_t), intent(in) :: n
    real(c_double), intent(in) :: a(n)
    real(c_double) :: sd, mean
    mean = sum(a) / n
    sd = sqrt(sum((a - mean)**2) / (n - 1))
end function standard_deviation

! The Bessel function of the first kind of order 0.
function besselj0(x) result(j0) bind(c, name="besselj0")
    use, intrinsic :: iso_c_binding
    implicit none
    real(c_double), intent(in) :: x
    real(c_double) :: j0
    j0 = bessel_j0(x)
end function besselj0

! Write the n characters of original into reversed, last one first.
subroutine reverse_string(original, n, reversed) bind(c, name="reverse_string")
    use, intrinsic :: iso_c_binding
    implicit none
    integer(c_int32_t), intent(in) :: n
    character(kind=c_char), intent(in) :: original(n)
    character(kind=c_char), intent(out) :: reversed(n)
    integer :: i
    do i = 1, n
        reversed(i) = original(n - i + 1)
    end do
end subroutine reverse_string

! Element-wise sum of two arrays of n doubles: out = in1 + in2.
subroutine add_1d_arrays(out, in1, in2, n) bind(c, name="add_1d_arrays")
    use, intrinsic :: iso_c_binding
    implicit none
    integer(c_int32_t), intent(in) :: n
    real(c_double), intent(in) :: in1(n), in2(n)
    real(c_double), intent(out) :: out(n)
    out = in1 + in2
end subroutine add_1d_arrays

! The matrix product out = a1 a2 of an r1 x c1 and an r2 x c2 matrix, all three stored
! column by column as FORTRAN does. c1 must equal r2: the caller checks.
subroutine matrix_multiply(out, a1, r1, c1, a2, r2, c2) bind(c, name="matrix_multiply")
    use, intrinsic :: iso_c_binding
    implicit none
    integer(c_int32_t), intent(in) :: r1, c1, r2, c2
    real(c_double), intent(in) :: a1(r1, c1), a2(r2, c2)
    real(c_double), intent(out) :: out(r1, c2)
    integer :: i, j
    ! dot_product is expanded inline, where matmul would call into libgfortran.
    do j = 1, c2
        do i = 1, r1
            out(i, j) = dot_product(a1(i, :), a2(:, j))
        end do
    end do
end subroutine matrix_multiply
