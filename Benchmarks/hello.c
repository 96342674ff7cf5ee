// Baseline: the cheapest C program that starts, writes a line and exits.
#include <stdio.h>
int main(void) { puts("hello"); return 0; }
