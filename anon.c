#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <stdio.h>
#include <unistd.h>
int main(){ struct stat a,b; int e=eventfd(0,0), t=timerfd_create(CLOCK_MONOTONIC,0), ep=epoll_create1(0);
 fstat(e,&a); fstat(t,&b); printf("eventfd ino %lu dev %lu, timerfd ino %lu dev %lu, epoll ", a.st_ino,a.st_dev,b.st_ino,b.st_dev);
 fstat(ep,&a); printf("ino %lu\n", a.st_ino); return 0;}
